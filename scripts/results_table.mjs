// Prints the markdown tables of docs/results.md from the runs scripts/results.sh leaves in
// runs/results/ (each run's eval.json and train_seconds), averaging over seeds.
//
//   node scripts/results_table.mjs [runs/results]
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2] ?? 'runs/results';
const runs = fs.readdirSync(root).filter((d) => fs.existsSync(path.join(root, d, 'eval.json')));
const read = (d) => ({
  name: d,
  eval: JSON.parse(fs.readFileSync(path.join(root, d, 'eval.json'), 'utf8')),
  seconds: Number(fs.readFileSync(path.join(root, d, 'train_seconds'), 'utf8')),
});

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pm = (xs, digits) => `${mean(xs).toFixed(digits)} ± ${sd(xs).toFixed(digits)}`;

// 2-D mixtures: runs named ARCH-DATA-STEPS-sSEED.
const groups = new Map();
for (const d of runs) {
  const m = d.match(/^(.*-mlp)-(ring8|grid25)-(\d+)-s(\d+)$/);
  if (!m) continue;
  const key = `${m[2]} ${m[1]} ${m[3]}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(read(d));
}
console.log('| data | model | steps | seeds | modes captured | % high quality | train s / run |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const key of [...groups.keys()].sort()) {
  const [data, arch, steps] = key.split(' ');
  const g = groups.get(key);
  const modes = g.map((r) => r.eval.modes_captured);
  const hq = g.map((r) => r.eval.high_quality_percent);
  console.log(`| ${data} | ${arch} | ${steps} | ${g.length} | ${pm(modes, 1)} / ${g[0].eval.num_modes} | ${pm(hq, 1)} | ${mean(g.map((r) => r.seconds)).toFixed(0)} |`);
}
for (const data of ['ring8', 'grid25']) {
  const real = [...groups.entries()].find(([k]) => k.startsWith(data + ' '));
  if (!real) continue;
  const e = real[1][0].eval;
  console.log(`\nReal ${data} (2,500 samples): ${e.modes_captured_real} / ${e.num_modes} modes, ${e.high_quality_percent_real.toFixed(1)}% high quality.`);
}

// Images.
console.log('\n| run | samples | metric | ours | real data |');
console.log('| --- | ---: | --- | ---: | ---: |');
for (const d of runs.filter((r) => !r.includes('-mlp-')).sort()) {
  const { eval: e, seconds } = read(d);
  const row = (metric, ours, realv) => console.log(`| ${d} (${seconds} s) | ${e.samples} | ${metric} | ${ours} | ${realv} |`);
  if (e.data === 'stacked-mnist') {
    row('modes hit of 1000', e.modes, e.modes_real);
    row('KL to uniform (nats)', e.kl_to_uniform.toFixed(3), e.kl_to_uniform_real.toFixed(3));
  } else if (e.data === 'mnist') {
    row('classifier score', `${e.classifier_score.mean.toFixed(2)} ± ${e.classifier_score.std.toFixed(2)}`,
        `${e.classifier_score_real.mean.toFixed(2)} ± ${e.classifier_score_real.std.toFixed(2)}`);
    row('Frechet distance', e.frechet_distance.toFixed(2), e.frechet_distance_real.toFixed(2));
    row('KL(classes ‖ uniform)', e.kl_to_uniform.toFixed(3), e.kl_to_uniform_real.toFixed(3));
  }
}
