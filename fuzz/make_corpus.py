#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets to fuzz/corpus/<target>/ (standard library only).

Each seed is a small valid input, or one a step away from valid, for the parser it feeds; the
fuzzer mutates them. Run it after changing a format; the files it writes are committed.
"""
import base64
import json
import os
import struct
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

# Two baseline JPEGs written by stb_image_write (8x8 gray, 16x8 RGB): nothing here encodes JPEG.
GRAY_JPEG = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERX"
    "RTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AABEIAAgACAMBIgACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQID"
    "BAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYX"
    "GBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqi"
    "o6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEB"
    "AQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS"
    "8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeI"
    "iYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/"
    "2gAMAwEAAhEDEQA/AEg8Hf8ATP8ASp/+EO/6Z/pXYwVPQB//2Q==")
RGB_JPEG = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERX"
    "RTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AABEIAAgAEAMBIgACEQEDEQH/xAGiAAABBQEBAQEBAQAAAAAAAAAAAQID"
    "BAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYX"
    "GBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqi"
    "o6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEB"
    "AQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS"
    "8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeI"
    "iYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fr/"
    "2gAMAwEAAhEDEQA/AGxBITstUiBWQYFpB5rbT0BZvkPbJHf8qW5wXYXAj3xSbtt3MZGAb0iXlScg8ZAHtS+HP4Kp"
    "6z/yN95/2z/9FrTsK5//2Q==")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- images

def png(width, height, color_type, bit_depth, rows, interlace=0, extra=b""):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bmp(width, height, bpp, pixel_rows, palette=b""):
    row_bytes = (width * bpp + 31) // 32 * 4
    data = b"".join(r.ljust(row_bytes, b"\x00") for r in pixel_rows)
    offset = 14 + 40 + len(palette)
    header = b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, 0, len(data), 2835, 2835,
                       len(palette) // 4, 0)
    return header + info + palette + data


def images():
    gray = png(2, 2, 0, 8, [b"\x10\x80", b"\x00\xf0"])
    return {
        "gray.png": gray,
        "rgb.png": png(3, 2, 2, 8, [bytes(range(9)), bytes(range(100, 109))]),
        "rgba.png": png(2, 2, 6, 8, [bytes(range(8)), bytes(range(50, 58))]),
        "gray_alpha.png": png(2, 1, 4, 8, [b"\x10\xff\x80\x00"]),
        "gray16.png": png(2, 2, 0, 16, [b"\x10\x00\x80\x00", b"\x00\x00\xff\xff"]),
        "gray1.png": png(8, 2, 0, 1, [b"\xa5", b"\x5a"]),
        "palette.png": png(2, 2, 3, 8, [b"\x00\x01", b"\x01\x00"],
                           extra=png_chunk(b"PLTE", b"\xff\x00\x00\x00\x00\xff") +
                           png_chunk(b"tRNS", b"\x80")),
        "interlaced.png": png(3, 3, 2, 8, [bytes(range(9))] * 3, interlace=1),
        "rgb24.bmp": bmp(2, 2, 24, [b"\x00\x00\xff\x00\xff\x00", b"\xff\x00\x00\xff\xff\xff"]),
        "gray8.bmp": bmp(2, 2, 8, [b"\x00\x01", b"\x01\x00"], palette=b"\x00\x00\x00\x00\xff\xff\xff\x00"),
        "rgba32.bmp": bmp(1, 2, 32, [b"\x01\x02\x03\x04", b"\x05\x06\x07\x08"]),
        "gray.jpg": base64.b64decode(GRAY_JPEG),
        "rgb.jpg": base64.b64decode(RGB_JPEG),
        # Formats the data sets refuse: stb's decoders for them are not compiled.
        "refused.gif": b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
                       b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        "refused.psd": b"8BPS\x00\x01" + b"\x00" * 6 + b"\x00\x03\x00\x00\x00\x01\x00\x00\x00\x01"
                       b"\x00\x08\x00\x03",
        "refused.tga": b"\x00\x00\x02" + b"\x00" * 9 + b"\x01\x00\x01\x00\x18\x00" + b"\x00\x00\xff",
        "refused.pnm": b"P5\n1 1\n255\n\x80",
    }


# --- tensors

def safetensors(entries, metadata=None, pad=True):
    header = {}
    data = b""
    for name, (dtype, shape, raw) in entries.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def npy(shape, values, descr="<f4", fortran=False, version=1):
    shape_text = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    text = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_text)
    prefix = 6 + 2 + (2 if version == 1 else 4)
    text += " " * ((64 - (prefix + len(text) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return (b"\x93NUMPY" + bytes([version, 0]) + length + text.encode() +
            struct.pack("<%df" % len(values), *values))


def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data


# --- fonts: a TrueType file with ten digit glyphs, each one square contour of its own size

def font(numbers=range(10), composite=False):
    glyphs = [b""]  # .notdef, empty
    for d in numbers:
        lo, hi = 50 + 10 * d, 600 - 20 * d
        points = [(lo, lo), (lo, hi), (hi, hi), (hi, lo)]
        body = struct.pack(">hhhhh", 1, lo, lo, hi, hi) + struct.pack(">H", 3) + struct.pack(">H", 0)
        body += b"\x01" * 4  # on-curve, 2-byte x and y deltas
        xs, ys, px, py = b"", b"", 0, 0
        for x, y in points:
            xs += struct.pack(">h", x - px)
            ys += struct.pack(">h", y - py)
            px, py = x, y
        glyphs.append(body + xs + ys)
    if composite:  # one more glyph: a composite of glyph 1, shifted
        glyphs.append(struct.pack(">hhhhh", -1, 50, 50, 700, 700) +
                      struct.pack(">HHbb", 0x0002, 1, 100, 0))
    glyf, loca = b"", []
    for g in glyphs:
        g += b"\x00" * (len(g) % 2)
        loca.append(len(glyf) // 2)
        glyf += g
    loca.append(len(glyf) // 2)
    n = len(glyphs)
    seg_end, seg_start = [0x39, 0xFFFF], [0x30, 0xFFFF]
    seg_delta, seg_range = [(1 - 0x30) & 0xFFFF, 1], [0, 0]
    sub = struct.pack(">HHHH", 4, 0, 0, 4) + struct.pack(">HHH", 4, 1, 0)
    sub += struct.pack(">2H", *seg_end) + b"\x00\x00" + struct.pack(">2H", *seg_start)
    sub += struct.pack(">2H", *seg_delta) + struct.pack(">2H", *seg_range)
    sub = sub[:2] + struct.pack(">H", len(sub)) + sub[4:]
    cmap = struct.pack(">HHHHI", 0, 1, 3, 1, 12) + sub
    head = struct.pack(">IIIIHHqqhhhhHHhhh", 0x00010000, 0x00010000, 0, 0x5F0F3CF5, 0, 1000, 0, 0,
                       0, 0, 700, 700, 0, 8, 2, 0, 0)
    hhea = struct.pack(">I", 0x00010000) + struct.pack(">hhh", 800, -200, 0) + b"\x00" * 24 + \
        struct.pack(">H", n)
    hmtx = b"".join(struct.pack(">Hh", 700, 0) for _ in range(n))
    maxp = struct.pack(">IH", 0x00005000, n)
    loca_bytes = b"".join(struct.pack(">H", o) for o in loca)
    tables = sorted({b"cmap": cmap, b"glyf": glyf, b"head": head, b"hhea": hhea, b"hmtx": hmtx,
                     b"loca": loca_bytes, b"maxp": maxp}.items())
    offset = 12 + 16 * len(tables)
    directory, data = b"", b""
    for tag, t in tables:
        directory += tag + struct.pack(">III", 0, offset + len(data), len(t))
        data += t + b"\x00" * ((4 - len(t) % 4) % 4)
    return struct.pack(">IHHHH", 0x00010000, len(tables), 64, 2, len(tables) * 16 - 64) + \
        directory + data


def main():
    for name, data in images().items():
        put("fuzz_image", name, data)

    f32 = struct.pack("<6f", 0.5, -1, 2, 3.25, 0, 1e-3)
    put("fuzz_safetensors", "f32.safetensors",
        safetensors({"w": ("F32", [2, 3], f32), "b": ("F32", [], struct.pack("<f", 7))},
                    {"format": "pt"}))
    put("fuzz_safetensors", "dtypes.safetensors", safetensors({
        "f64": ("F64", [2], struct.pack("<2d", 1.5, -2)),
        "f16": ("F16", [2], struct.pack("<2H", 0x3c00, 0x0001)),
        "bf16": ("BF16", [1, 2], struct.pack("<2H", 0x3f80, 0xff80)),
        "i64": ("I64", [1], struct.pack("<q", 7)),
        "i32": ("I32", [1], struct.pack("<i", -3)),
        "i16": ("I16", [1], struct.pack("<h", 9)),
        "i8": ("I8", [2], b"\x80\x7f"),
        "u8": ("U8", [2], b"\x00\xff"),
        "bool": ("BOOL", [2, 0], b""),
        "flag": ("BOOL", [1], b"\x01")}))
    put("fuzz_safetensors", "empty.safetensors", safetensors({}, pad=False))

    put("fuzz_npy", "f32_2x3.npy", npy([2, 3], [0.5, -1, 2, 3.25, 0, 1e-3]))
    put("fuzz_npy", "scalar.npy", npy([], [4]))
    put("fuzz_npy", "empty.npy", npy([0], []))
    put("fuzz_npy", "v2.npy", npy([3], [1, 2, 3], version=2))

    images_file = idx(2051, [2, 28, 28], bytes(range(256)) * 6 + bytes(2 * 784 - 1536))
    labels_file = idx(2049, [2], b"\x03\x09")
    put("fuzz_mnist_idx", "pair", struct.pack(">I", len(images_file)) + images_file + labels_file)
    put("fuzz_mnist_idx", "pair_rgb_28", struct.pack(">I", 0x80000000 | len(images_file)) +
        images_file + labels_file + b"")

    gan = {"arch": "dcgan", "resolution": 32, "latent_dim": 64, "gp_lambda": 10.0, "loss": "bce"}
    train = {"steps": 100, "batch": 16, "seed": 1, "device": "cpu", "g_lr": 0.0002, "beta1": 0.5,
             "log_grad_norm": False, "data": "mnist:data/mnist", "n_critic": 5}
    put("fuzz_options_json", "gan.json", json.dumps(gan))
    put("fuzz_options_json", "train.json", json.dumps(train))
    put("fuzz_options_json", "empty.json", "{}")

    checkpoint = {
        "format": "ganengine-gan-checkpoint", "version": 2, "step": 10,
        "rng": {"seed": 1, "offset": 40}, "batch": 16,
        "loaders": {"real": {"epoch": 0, "index": 160}},
        "optimizers": {"G": {"steps": 10, "param_steps": [10, 10], "lr": 0.0002,
                             "schedule": {"total_steps": 100, "decay_steps": 50}},
                       "D": {"steps": 10, "param_steps": [10], "lr": 0.0002}},
        "elapsed_s": 1.5, "gan_options": gan, "train_options": train,
        "tensors": {"file": "checkpoint.safetensors", "bytes": 1024,
                    "fnv1a64": "cbf29ce484222325"}}
    put("fuzz_checkpoint_json", "v2.json", json.dumps(checkpoint, indent=1))
    v1 = dict(checkpoint, version=1, loader={"epoch": 1, "index": 3, "batch": 16})
    del v1["loaders"], v1["batch"]
    put("fuzz_checkpoint_json", "v1.json", json.dumps(v1, indent=1))

    put("fuzz_font", "digits.ttf", font())
    put("fuzz_font", "composite.ttf", font(composite=True))
    put("fuzz_font", "nine_digits.ttf", font(range(9)))

    gray = images()["gray.png"]
    put("fuzz_photo_patches", "one_png", b"\x01" + gray)
    put("fuzz_photo_patches", "png_bmp_jpg", b"\x05" + images()["rgb.png"] + b"|ge|" +
        images()["rgb24.bmp"] + b"|ge|" + images()["rgb.jpg"])
    put("fuzz_photo_patches", "gray_jpg", b"\x03" + images()["gray.jpg"])

    for i, spec in enumerate([b"\x00mnist:mnist", b"\x01mnist", b"\x05stacked-mnist:mnist",
                              b"\x02images:images", b"\x06folder:images", b"\x03images",
                              b"\x00images:junk", b"\x00ring8", b"\x00grid25",
                              b"\x00typeset:fonts", b"\x00typeset-test:nowhere", b"\x00"]):
        put("fuzz_data_spec", "spec%02d" % i, spec)


if __name__ == "__main__":
    sys.exit(main())
