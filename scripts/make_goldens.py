#!/usr/bin/python3
"""Writes the PyTorch golden files under tests/golden/ that tests/engine/golden_*_test.cpp check.

Regenerate (needs PyTorch 1.13 as Debian packages it; the tests themselves never need torch):

    apt-get install python3-torch && /usr/bin/python3 scripts/make_goldens.py

One safetensors file per op family. Inputs are drawn in float32 from a generator seeded by the
case name (so adding a case changes no other case), then every computation runs in float64 on
those exact float32 values, and the results are rounded to float32 once when stored. The stored
expectations are therefore the correctly rounded answers for the stored inputs (to within
float64 round-off), not one float32 summation order among many: the C++ tolerances only have to
cover the engine's own float32 rounding. torch.set_num_threads(1) and deterministic algorithms
keep reruns bit-identical.

Layout: tensor "<case>/<name>"; metadata "cases" lists the cases in order, "<case>" holds the
case's parameters as "key=value key=value", "generator" names the torch version.
tests/golden/README.md lists the cases and the tolerance of each op.
"""

import json
import math
import os
import sys
import zlib

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")


# --- safetensors writing (the format is small enough to write here; no extra package needed)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


class Golden:
    """Collects the cases of one op family and writes them as one file."""

    def __init__(self, family):
        self.family = family
        self.tensors = {}
        self.meta = {"generator": f"scripts/make_goldens.py, torch {torch.__version__}"}
        self.cases = []

    def case(self, name, **params):
        assert name not in self.cases, name
        self.cases.append(name)
        self.meta[name] = " ".join(f"{k}={fmt(v)}" for k, v in params.items())
        # A generator per case, seeded by its name: cases are independent of each other's order.
        gen = torch.Generator().manual_seed(zlib.crc32(f"{self.family}/{name}".encode()))
        return Case(self, name, gen)

    def write(self):
        self.meta["cases"] = ",".join(self.cases)
        path = os.path.join(OUT_DIR, f"{self.family}.safetensors")
        write_safetensors(path, self.tensors, self.meta)
        size = os.path.getsize(path)
        print(f"{path}: {len(self.cases)} cases, {len(self.tensors)} tensors, {size} bytes")
        return size


def fmt(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return repr(v)
    return str(v)


class Case:
    def __init__(self, golden, name, gen):
        self.golden, self.name, self.gen = golden, name, gen

    def randn(self, *shape, scale=1.0, offset=0.0):
        """float32 draws (stored exactly), returned as float64 leaves for the computation."""
        t = torch.randn(shape, generator=self.gen, dtype=torch.float32) * scale + offset
        return t.to(torch.float32).double()

    def rand(self, *shape, lo=0.0, hi=1.0):
        t = torch.rand(shape, generator=self.gen, dtype=torch.float32) * (hi - lo) + lo
        return t.to(torch.float32).double()

    def param(self, **params):
        """Adds parameters computed after the case was opened."""
        self.golden.meta[self.name] += "".join(f" {k}={fmt(v)}" for k, v in params.items())

    def put(self, **tensors):
        for k, v in tensors.items():
            key = f"{self.name}/{k}"
            assert key not in self.golden.tensors, key
            self.golden.tensors[key] = v.detach().clone()  # later in-place updates must not leak


def f32(v):
    """A hyperparameter as the engine sees it: the C++ API takes float, so the reference must use
    the float32-rounded value (e.g. 1 - 0.999f differs from 1 - 0.999 by 1.3e-5 relative)."""
    return float(torch.tensor(v, dtype=torch.float32))


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def grad(outputs, inputs, grad_outputs=None, create_graph=False):
    """torch.autograd.grad with zeros (not None) for inputs the outputs do not depend on."""
    gs = torch.autograd.grad(outputs, inputs, grad_outputs, create_graph=create_graph,
                             allow_unused=True)
    return [torch.zeros_like(i) if gr is None else gr for gr, i in zip(gs, inputs)]


# --- conv2d / conv_transpose2d


GW_HEAD_ABOVE = 1 << 16  # weight elements above which only gw_head is stored
GW_HEAD_CHANNELS = 16


def conv_family():
    g = Golden("conv")
    # name: (transposed, N, C_in, C_out, H, W, k, stride, pad, output_padding, groups, bias,
    #        second order)
    cases = {
        # DCGAN-MNIST generator and discriminator layers at their real sizes.
        "dcgan_g1": (True, 2, 128, 64, 7, 7, 4, 2, 1, 0, 1, True, False),
        "dcgan_g2": (True, 2, 64, 1, 14, 14, 4, 2, 1, 0, 1, True, False),
        "dcgan_d1": (False, 2, 1, 64, 28, 28, 4, 2, 1, 0, 1, True, False),
        # SNGAN's 3x3 same convolutions.
        "sngan_3x3": (False, 2, 16, 16, 8, 8, 3, 1, 1, 0, 1, True, True),
        # StyleGAN-like: 3x3 at 4x4 and 8x8, the 4x4 "valid" conv to 1x1, the 4x4 upsampling
        # transposed conv 4x4 -> 8x8.
        "style_3x3_at4": (False, 2, 16, 16, 4, 4, 3, 1, 1, 0, 1, True, True),
        "style_3x3_at8": (False, 2, 16, 8, 8, 8, 3, 1, 1, 0, 1, True, True),
        "style_4x4_at4": (False, 2, 16, 8, 4, 4, 4, 1, 0, 0, 1, True, True),
        "style_up_4x4_at4": (True, 2, 16, 8, 4, 4, 4, 2, 1, 0, 1, True, True),
        # Odd and non-square sizes, batch 1, no bias.
        "odd_5x7_s2": (False, 1, 3, 5, 5, 7, 3, 2, 1, 0, 1, True, True),
        "odd_5x7_transposed": (True, 1, 3, 4, 5, 7, 3, 2, 1, 1, 1, True, True),
        "odd_5x7_k5_nobias": (False, 3, 2, 3, 5, 7, 5, 1, 2, 0, 1, False, True),
        # Stride 2 with output_padding 1.
        "output_padding_1": (True, 2, 4, 6, 4, 4, 3, 2, 1, 1, 1, True, True),
        # Grouped.
        "groups_2": (False, 2, 8, 6, 6, 6, 3, 1, 1, 0, 2, True, True),
        "groups_4_transposed": (True, 2, 8, 8, 5, 5, 4, 2, 1, 0, 4, True, True),
        "groups_4_s2": (False, 1, 8, 4, 7, 6, 3, 2, 0, 0, 4, True, True),
    }
    for name, (tr, n, cin, cout, h, w, k, s, p, op, groups, has_bias, second) in cases.items():
        c = g.case(name, op="conv_transpose2d" if tr else "conv2d", stride=s, padding=p,
                   output_padding=op, groups=groups, bias=has_bias, second_order=second)
        wshape = (cin, cout // groups, k, k) if tr else (cout, cin // groups, k, k)
        fan_in = (cin // groups) * k * k
        x = c.randn(n, cin, h, w)
        wt = c.randn(*wshape, scale=1.0 / math.sqrt(fan_in))
        b = c.randn(cout, scale=0.5) if has_bias else None
        xl, wl = leaf(x), leaf(wt)
        bl = leaf(b) if has_bias else None
        if tr:
            y = F.conv_transpose2d(xl, wl, bl, stride=s, padding=p, output_padding=op,
                                   groups=groups)
        else:
            y = F.conv2d(xl, wl, bl, stride=s, padding=p, groups=groups)
        gy = leaf(c.randn(*y.shape))
        inputs = [xl, wl] + ([bl] if has_bias else [])
        grads = grad(y, inputs, gy, create_graph=second)
        c.put(x=x, w=wt, y=y, gy=gy, gx=grads[0])
        if wt.numel() > GW_HEAD_ABOVE:
            # Only the first input channels' weight gradient: each element is still a whole
            # N*H*W reduction, and the full tensor would double the file.
            c.put(gw_head=grads[1][:GW_HEAD_CHANNELS])
        else:
            c.put(gw=grads[1])
        if has_bias:
            c.put(b=b, gb=grads[2])
        if second:
            # Second order: the gradient of <gx, v> wrt the weight and the upstream gradient.
            v = c.randn(*x.shape)
            ggw, ggy = grad(grads[0], [wl, gy], v)
            c.put(v=v, ggw=ggw, ggy=ggy)
    return g.write()


# --- bias_act and leaky_relu


def bias_act_family():
    g = Golden("bias_act")
    acts = {
        "linear": lambda u, a: u,
        "relu": lambda u, a: F.relu(u),
        "lrelu": lambda u, a: F.leaky_relu(u, a),
        "tanh": lambda u, a: torch.tanh(u),
        "sigmoid": lambda u, a: torch.sigmoid(u),
    }
    sqrt2 = math.sqrt(2.0)
    # name: (act, alpha, gain (None: the default), clamp (<0: none), bias dim (None: no bias))
    cases = {
        "lrelu": ("lrelu", 0.2, None, -1.0, 1),
        "lrelu_clamp": ("lrelu", 0.2, None, 0.5, 1),
        "lrelu_alpha01": ("lrelu", 0.1, 1.0, -1.0, 1),
        "relu": ("relu", 0.2, None, -1.0, 1),
        "relu_clamp": ("relu", 0.2, None, 0.8, 1),
        "tanh": ("tanh", 0.2, None, -1.0, 1),
        "tanh_gain2_clamp": ("tanh", 0.2, 2.0, 1.5, 1),
        "sigmoid": ("sigmoid", 0.2, None, -1.0, 1),
        "linear": ("linear", 0.2, None, -1.0, 1),
        "linear_clamp": ("linear", 0.2, None, 0.7, 1),
        "lrelu_last_dim": ("lrelu", 0.2, None, -1.0, 3),
        "sigmoid_nobias": ("sigmoid", 0.2, None, -1.0, None),
    }
    for name, (act, alpha, gain, clamp, dim) in cases.items():
        alpha, clamp = f32(alpha), f32(clamp)
        gain = None if gain is None else f32(gain)
        c = g.case(name, op="bias_act", act=act, alpha=alpha,
                   gain="default" if gain is None else gain, clamp=clamp,
                   dim=-1 if dim is None else dim, bias=dim is not None)
        x = c.randn(2, 4, 3, 5)
        xl = leaf(x)
        gain_v = gain if gain is not None else (f32(sqrt2) if act in ("relu", "lrelu") else 1.0)
        u = xl
        inputs = [xl]
        if dim is not None:
            b = c.randn(x.shape[dim], scale=0.5)
            bl = leaf(b)
            view = [1] * x.dim()
            view[dim] = -1
            u = xl + bl.view(view)
            inputs.append(bl)
            c.put(b=b)
        y = acts[act](u, alpha) * gain_v
        if clamp >= 0:
            y = y.clamp(-clamp, clamp)
        gy = leaf(c.randn(*y.shape))
        grads = grad(y, inputs, gy, create_graph=True)
        v = c.randn(*x.shape)
        ggx, ggy = grad(grads[0], [xl, gy], v)
        c.put(x=x, y=y, gy=gy, gx=grads[0], v=v, ggx=ggx, ggy=ggy)
        if dim is not None:
            c.put(gb=grads[1])
    for name, slope in {"leaky_relu_001": f32(0.01), "leaky_relu_02": f32(0.2)}.items():
        c = g.case(name, op="leaky_relu", negative_slope=slope)
        x = c.randn(3, 7, 5)
        xl = leaf(x)
        y = F.leaky_relu(xl, slope)
        gy = c.randn(*y.shape)
        (gx,) = grad(y, [xl], gy)
        c.put(x=x, y=y, gy=gy, gx=gx)
    return g.write()


# --- spectral_norm


def spectral_norm_family():
    g = Golden("spectral_norm")
    makers = {
        "linear": (lambda: torch.nn.Linear(8, 16), 0, (1, 8)),
        "conv2d": (lambda: torch.nn.Conv2d(4, 8, 3), 0, (1, 4, 3, 3)),
        "conv_transpose2d": (lambda: torch.nn.ConvTranspose2d(4, 8, 4), 1, (1, 4, 2, 2)),
    }
    for name, (make, dim, in_shape) in makers.items():
        c = g.case(name, dim=dim, n_power_iterations=1, eps=1e-12)
        torch.manual_seed(zlib.crc32(f"spectral_norm/{name}".encode()))
        m = torch.nn.utils.spectral_norm(make())  # float32 init: u, v drawn as PyTorch draws them
        m = m.double()
        weight = m.weight_orig
        u0, v0 = m.weight_u.clone(), m.weight_v.clone()
        m.train()
        m(torch.zeros(*in_shape, dtype=torch.float64))  # one training forward: power iteration
        w_sn = m.weight
        u1, v1 = m.weight_u.clone(), m.weight_v.clone()
        gy = c.randn(*w_sn.shape)
        (gw,) = grad(w_sn, [weight], gy)
        m.eval()
        m(torch.zeros(*in_shape, dtype=torch.float64))  # eval: the stored u1, v1 as they are
        c.put(weight=weight, u0=u0, v0=v0, u1=u1, v1=v1, w_sn=w_sn, gy=gy, gw=gw,
              w_sn_eval=m.weight)
    return g.write()


# --- gradient penalty


def gradient_penalty_family():
    g = Golden("gradient_penalty")
    c = g.case("wgan_gp_critic", lam=10.0, conv_stride=2, conv_padding=1, lrelu_alpha=0.2)
    n = 4
    real = c.randn(n, 1, 8, 8)
    fake = c.randn(n, 1, 8, 8)
    alpha = c.rand(n)
    cw = leaf(c.randn(4, 1, 3, 3, scale=1.0 / 3.0))
    cb = leaf(c.randn(4, scale=0.1))
    lw = leaf(c.randn(1, 64, scale=1.0 / 8.0))
    lb = leaf(c.randn(1, scale=0.1))
    x_hat = (real + alpha.view(-1, 1, 1, 1) * (fake - real)).requires_grad_(True)
    h = F.leaky_relu(F.conv2d(x_hat, cw, cb, stride=2, padding=1), f32(0.2))
    out = F.linear(h.flatten(1), lw, lb)
    (gx,) = grad(out.sum(), [x_hat], create_graph=True)
    penalty = 10.0 * ((gx.flatten(1).norm(2, dim=1) - 1.0) ** 2).mean()
    g_cw, g_lw = grad(penalty, [cw, lw])
    c.put(real=real, fake=fake, alpha=alpha, conv_w=cw, conv_b=cb, lin_w=lw, lin_b=lb,
          x_hat=x_hat, out=out, grad_x=gx, penalty=penalty, g_conv_w=g_cw, g_lin_w=g_lw)
    return g.write()


# --- batch_norm2d, instance_norm2d, minibatch_stddev, pixel_norm, upsample


def batch_norm_family():
    g = Golden("batch_norm")
    for training in (True, False):
        name = "train" if training else "eval"
        momentum, eps = f32(0.1), f32(1e-5)
        c = g.case(name, training=training, momentum=momentum, eps=eps)
        x = c.randn(4, 3, 5, 5, scale=2.0, offset=0.5)
        w, b = c.randn(3, scale=0.5, offset=1.0), c.randn(3, scale=0.5)
        rm, rv = c.randn(3, scale=0.3), c.rand(3, lo=0.5, hi=2.0)
        xl, wl, bl = leaf(x), leaf(w), leaf(b)
        rm_run, rv_run = rm.clone(), rv.clone()
        y = F.batch_norm(xl, rm_run, rv_run, wl, bl, training, momentum, eps)
        gy = leaf(c.randn(*y.shape))
        gx, gw, gb = grad(y, [xl, wl, bl], gy, create_graph=True)
        v = c.randn(*x.shape)
        ggx, ggw = grad(gx, [xl, wl], v)
        c.put(x=x, weight=w, bias=b, running_mean=rm, running_var=rv, y=y,
              running_mean_after=rm_run, running_var_after=rv_run, gy=gy, gx=gx, gw=gw, gb=gb,
              v=v, ggx=ggx, ggw=ggw)
    return g.write()


def instance_norm_family():
    g = Golden("instance_norm")
    # PyTorch rejects 1x1 planes ("Expected more than 1 spatial element"), so none here.
    shapes = {"affine": ((2, 4, 5, 5), True), "no_affine": ((2, 3, 4, 4), False),
              "odd_3x5_n1": ((1, 3, 3, 5), True), "odd_7x7_no_affine": ((3, 2, 7, 7), False)}
    for name, (shape, affine) in shapes.items():
        eps = f32(1e-5)
        c = g.case(name, affine=affine, eps=eps)
        x = c.randn(*shape, scale=2.0, offset=0.5)
        xl = leaf(x)
        inputs = [xl]
        wl = bl = None
        if affine:
            w, b = c.randn(shape[1], scale=0.5, offset=1.0), c.randn(shape[1], scale=0.5)
            wl, bl = leaf(w), leaf(b)
            inputs += [wl, bl]
            c.put(weight=w, bias=b)
        y = F.instance_norm(xl, weight=wl, bias=bl, use_input_stats=True, eps=eps)
        gy = c.randn(*y.shape)
        grads = grad(y, inputs, gy, create_graph=True)
        v = c.randn(*x.shape)
        gg = grad(grads[0], inputs[:2], v)
        c.put(x=x, y=y, gy=gy, gx=grads[0], v=v, ggx=gg[0])
        if affine:
            c.put(gw=grads[1], gb=grads[2], ggw=gg[1])
    return g.write()


def minibatch_stddev_torch(x, group_size, num_channels):
    """StyleGAN2-ADA's MinibatchStdLayer.forward (training/networks.py), verbatim in substance."""
    N, C, H, W = x.shape
    G = min(group_size, N) if group_size is not None else N
    Fc = num_channels
    c = C // Fc
    y = x.reshape(G, -1, Fc, c, H, W)  # [GnFcHW] split the batch into n groups of size G
    y = y - y.mean(dim=0)  # [GnFcHW] subtract the group mean
    y = y.square().mean(dim=0)  # [nFcHW] variance over the group
    y = (y + f32(1e-8)).sqrt()  # [nFcHW] stddev over the group
    y = y.mean(dim=[2, 3, 4])  # [nF] average over channels and pixels
    y = y.reshape(-1, Fc, 1, 1)  # [nF11]
    y = y.repeat(G, 1, H, W)  # [NFHW] replicate over the group and pixels
    return torch.cat([x, y], dim=1)  # [N(C+F)HW]


def minibatch_stddev_family():
    g = Golden("minibatch_stddev")
    for name, (n, ch, group, nc) in {"n8_g4_f1": (8, 4, 4, 1), "n8_g4_f2": (8, 4, 4, 2),
                                     "n2_g4_f1": (2, 6, 4, 1), "n6_g2_f1": (6, 2, 2, 1)}.items():
        c = g.case(name, group_size=group, num_channels=nc)
        x = c.randn(n, ch, 3, 3)
        gy = c.randn(n, ch + nc, 3, 3)
        v = c.randn(*x.shape)

        def run(x, gy, v):
            xl = leaf(x)
            y = minibatch_stddev_torch(xl, group, nc)
            (gx,) = grad(y, [xl], gy, create_graph=True)
            (ggx,) = grad(gx, [xl], v)
            return {"y": y, "gx": gx, "ggx": ggx}

        r = run(x, gy, v)
        # ggx is a difference of terms of size |v| * |gstats| / (count * stddev), and with groups
        # of 2 (stddev = |a - b| / 2, piecewise linear) it cancels to ~0: float32 can only get it
        # to within eps times those terms, so the test scales its tolerance by them.
        G = min(group, n)
        yg = x.reshape(G, -1, nc, ch // nc, 3, 3)
        std = ((yg - yg.mean(0)).square().mean(0) + f32(1e-8)).sqrt()
        gstats = gy[:, ch:].sum((2, 3)).reshape(G, -1, nc).sum(0)
        c.param(ggx_term_scale=(v.abs().max() * gstats.abs().max() /
                                ((ch // nc) * 9 * G * std.min())).item())
        c.put(x=x, gy=gy, v=v, **r)
    return g.write()


def minibatch_discrimination_torch(x, T):
    """Salimans et al. 2016's MinibatchLayer (improved-GAN code): the sample itself left out by
    1e6 on the diagonal of the L1 distances."""
    n = x.shape[0]
    a, b, cdim = T.shape
    m = (x @ T.reshape(a, b * cdim)).reshape(n, b, cdim)
    l1 = (m[:, None] - m[None, :]).abs().sum(3)
    l1 = l1 + 1e6 * torch.eye(n)[:, :, None]
    return torch.exp(-l1).sum(1)


def minibatch_discrimination_family():
    g = Golden("minibatch_discrimination")
    for name, (n, a, b, cdim) in {"n6_a4_b3_c2": (6, 4, 3, 2), "n1_a3_b2_c2": (1, 3, 2, 2),
                                  "n8_a5_b4_c5": (8, 5, 4, 5)}.items():
        c = g.case(name)
        x = c.randn(n, a)
        T = c.randn(a, b, cdim, scale=0.3)
        gy = c.randn(n, b)
        vx = c.randn(n, a)
        vT = c.randn(a, b, cdim)
        xl, Tl = leaf(x), leaf(T)
        y = minibatch_discrimination_torch(xl, Tl)
        gx, gT = grad(y, [xl, Tl], gy, create_graph=True)
        ggx, ggT = grad((gx * vx).sum() + (gT * vT).sum(), [xl, Tl])
        c.put(x=x, T=T, gy=gy, vx=vx, vT=vT, y=y, gx=gx, gT=gT, ggx=ggx, ggT=ggT)
    return g.write()


def pixel_norm_family():
    g = Golden("pixel_norm")
    for name, shape in {"nchw": (2, 8, 3, 3), "latent": (4, 16)}.items():
        c = g.case(name, dim=1, eps=f32(1e-8))
        x = c.randn(*shape)
        xl = leaf(x)
        y = xl * torch.rsqrt(xl.square().mean(dim=1, keepdim=True) + f32(1e-8))
        gy = c.randn(*y.shape)
        (gx,) = grad(y, [xl], gy, create_graph=True)
        v = c.randn(*x.shape)
        (ggx,) = grad(gx, [xl], v)
        c.put(x=x, y=y, gy=gy, gx=gx, v=v, ggx=ggx)
    return g.write()


def upsample_family():
    g = Golden("upsample")
    modes = {"nearest": ("nearest", None), "bilinear": ("bilinear", False),
             "bilinear_align_corners": ("bilinear", True)}
    for name, (mode, ac) in modes.items():
        c = g.case(name, mode=mode, scale=2, align_corners=bool(ac))
        x = c.randn(2, 3, 4, 5)
        xl = leaf(x)
        y = F.interpolate(xl, scale_factor=2, mode=mode, align_corners=ac)
        gy = c.randn(*y.shape)
        (gx,) = grad(y, [xl], gy)
        c.put(x=x, y=y, gy=gy, gx=gx)
    return g.write()


def pixel_shuffle_family():
    g = Golden("pixel_shuffle")
    # name: (op, factor, input shape)
    cases = {
        "shuffle_r2": ("shuffle", 2, (2, 12, 3, 4)),
        "shuffle_r3": ("shuffle", 3, (1, 18, 2, 3)),
        "unshuffle_r2": ("unshuffle", 2, (2, 3, 4, 6)),
    }
    for name, (op, r, shape) in cases.items():
        c = g.case(name, op=op, factor=r)
        x = c.randn(*shape)
        xl = leaf(x)
        y = F.pixel_shuffle(xl, r) if op == "shuffle" else F.pixel_unshuffle(xl, r)
        gy = c.randn(*y.shape)
        (gx,) = grad(y, [xl], gy)
        c.put(x=x, y=y, gy=gy, gx=gx)
    return g.write()


def resize_family():
    """F.interpolate(mode="bicubic") to a size. Unlike the other families this one runs in float32:
    the op places its taps with ATen's float32 coordinate arithmetic (scale = float(in) / out), and
    in float64 the taps move by eps * |src|, which times the data's slope exceeds the summation
    tolerance; in float32 the expectation differs from the exact answer only by PyTorch's own
    summation rounding, covered by the tolerance as the engine's is."""
    g = Golden("resize")
    # name: (input shape, output size, align_corners, antialias)
    cases = {
        "up_x2": ((2, 3, 5, 6), (10, 12), False, False),
        "up_x4": ((2, 3, 4, 5), (16, 20), False, False),
        "up_x4_align_corners": ((2, 3, 4, 5), (16, 20), True, False),
        "up_x4_antialias": ((1, 3, 4, 5), (16, 20), False, True),
        "down_x4": ((2, 3, 16, 20), (4, 5), False, False),
        "down_x4_antialias": ((2, 3, 16, 20), (4, 5), False, True),
        "down_x4_antialias_align_corners": ((1, 3, 16, 20), (4, 5), True, True),
        "odd_7x5_to_17x23": ((1, 2, 7, 5), (17, 23), False, False),
        "odd_7x5_to_17x23_align_corners": ((1, 2, 7, 5), (17, 23), True, False),
        "odd_23x17_to_6x4_antialias": ((1, 2, 23, 17), (6, 4), False, True),
        "odd_23x17_to_6x4": ((1, 2, 23, 17), (6, 4), False, False),
        "mixed_12x5_to_5x11_antialias": ((1, 2, 12, 5), (5, 11), False, True),
    }
    for name, (shape, size, ac, aa) in cases.items():
        c = g.case(name, out_h=size[0], out_w=size[1], align_corners=ac, antialias=aa)
        x = c.randn(*shape).float()
        xl = leaf(x)
        y = F.interpolate(xl, size=size, mode="bicubic", align_corners=ac, antialias=aa)
        gy = c.randn(*y.shape).float()
        (gx,) = grad(y, [xl], gy)
        c.put(x=x, y=y, gy=gy, gx=gx)
    return g.write()


def prelu_family():
    g = Golden("prelu")
    # name: (input shape, slopes: None for one shared 0.25 as nn.PReLU() starts)
    cases = {
        "shared": ((2, 3, 4, 5), None),
        "per_channel": ((2, 4, 3, 3), [0.25, -0.5, 0.1, 1.3]),
        "per_channel_2d": ((5, 6), [0.2, -1.5, 0.0, 0.7, -0.05, 2.0]),
    }
    for name, (shape, slopes) in cases.items():
        c = g.case(name, shared=slopes is None)
        x = c.randn(*shape)
        w = torch.tensor([0.25] if slopes is None else slopes, dtype=torch.float32).double()
        xl, wl = leaf(x), leaf(w)
        y = F.prelu(xl, wl)
        gy = leaf(c.randn(*y.shape))
        gx, gw = grad(y, [xl, wl], gy, create_graph=True)
        v = c.randn(*x.shape)
        # <gx, v> is linear in the slopes: its weight gradient sums gy * v where x <= 0.
        (ggw,) = grad(gx, [wl], v)
        c.put(x=x, weight=w, y=y, gy=gy, gx=gx, gw=gw, v=v, ggw=ggw)
    return g.write()


def pad_family():
    g = Golden("pad")
    modes = {"reflect": "reflect", "replicate": "replicate"}
    # name: (mode, input shape, (left, right, top, bottom))
    cases = {
        "reflect_c7s1": ("reflect", (2, 3, 4, 5), (3, 3, 3, 3)),  # CycleGAN's c7s1 pad
        "reflect_asym": ("reflect", (2, 3, 4, 5), (1, 2, 0, 3)),
        "reflect_3d": ("reflect", (3, 4, 5), (0, 4, 2, 0)),
        "replicate_c7s1": ("replicate", (2, 3, 4, 5), (3, 3, 3, 3)),
        "replicate_asym": ("replicate", (2, 3, 4, 5), (2, 0, 1, 5)),  # bottom pad beyond H
    }
    for name, (mode, shape, pad) in cases.items():
        c = g.case(name, mode=modes[mode], left=pad[0], right=pad[1], top=pad[2], bottom=pad[3])
        x = c.randn(*shape)
        xl = leaf(x)
        # F.pad's reflect/replicate take a batch dim; a 3-D input is padded as a batch of one.
        y = F.pad(xl if len(shape) == 4 else xl.unsqueeze(0), pad, mode=mode)
        y = y if len(shape) == 4 else y.squeeze(0)
        gy = c.randn(*y.shape)
        (gx,) = grad(y, [xl], gy)
        c.put(x=x, y=y, gy=gy, gx=gx)
    return g.write()


# --- losses and optimizers


def loss_family():
    g = Golden("loss")
    reductions = {"none": "none", "mean": "mean", "sum": "sum"}

    def logits(c):
        # Mostly moderate values plus large ones where a naive log(sigmoid) overflows.
        x = c.randn(24, scale=3.0)
        x[:4] = torch.tensor([30.0, -30.0, 100.0, -100.0], dtype=torch.float64)
        return x

    def term_scale(gy, v, red):
        # The second derivative s(1 - s) forms 1 - s, which cancels for large |x|: its float32
        # error is eps, not eps * s(1 - s), times |gy * v| (/ n for the mean).
        return ((gy.abs().max() * v.abs().max()) / (24 if red == "mean" else 1)).item()

    for red in reductions:
        for tname in ("soft", "hard"):
            c = g.case(f"bce_{tname}_{red}", op="bce_with_logits", reduction=red)
            x = logits(c)
            t = c.rand(24) if tname == "soft" else (c.rand(24) > 0.5).double()
            gy = c.randn(*((24,) if red == "none" else ()))
            v = c.randn(24)

            def run(x, t, gy, v):
                xl, tl = leaf(x), leaf(t)
                y = F.binary_cross_entropy_with_logits(xl, tl, reduction=reductions[red])
                gx, gt = grad(y, [xl, tl], gy, create_graph=True)
                (ggx,) = grad(gx, [xl], v)
                return {"y": y, "gx": gx, "gtarget": gt, "ggx": ggx}

            r = run(x, t, gy, v)
            c.param(ggx_term_scale=term_scale(gy, v, red))
            c.put(x=x, target=t, gy=gy, v=v, **r)
        for target in (1.0, 0.0, f32(0.9)):
            c = g.case(f"bce_scalar{target:.1f}_{red}".replace(".", "p"), op="bce_with_logits",
                       reduction=red, target=target)
            x = logits(c)
            xl = leaf(x)
            y = F.binary_cross_entropy_with_logits(xl, torch.full_like(x, target),
                                                   reduction=reductions[red])
            gy = c.randn(*y.shape)
            (gx,) = grad(y, [xl], gy)
            c.put(x=x, y=y, gy=gy, gx=gx)
        for sign in (1.0, -1.0):
            c = g.case(f"softplus_{'pos' if sign > 0 else 'neg'}_{red}", op="softplus_loss",
                       sign=sign, reduction=red)
            x = logits(c)
            gy = c.randn(*((24,) if red == "none" else ()))
            v = c.randn(24)

            def run(x, gy, v):
                xl = leaf(x)
                sp = F.softplus(sign * xl)
                y = sp if red == "none" else (sp.mean() if red == "mean" else sp.sum())
                (gx,) = grad(y, [xl], gy, create_graph=True)
                (ggx,) = grad(gx, [xl], v)
                return {"y": y, "gx": gx, "ggx": ggx}

            r = run(x, gy, v)
            c.param(ggx_term_scale=term_scale(gy, v, red))
            c.put(x=x, gy=gy, v=v, **r)

    # The regression losses (least-squares GAN, L1 cycle and identity losses).
    losses = {"mse": F.mse_loss, "l1": F.l1_loss}
    for red in reductions:
        for lname, fn in losses.items():
            for tname in ("tensor", "scalar1", "scalar0"):
                target = {"scalar1": 1.0, "scalar0": 0.0}.get(tname)
                params = dict(op=f"{lname}_loss", reduction=red)
                if target is not None:
                    params["target"] = target
                c = g.case(f"{lname}_{tname}_{red}", **params)
                x = c.randn(2, 3, 4)
                t = c.randn(2, 3, 4) if target is None else torch.full_like(x, target)
                if target is None:
                    x.view(-1)[5] = t.view(-1)[5]  # a tie: l1's gradient is sign(0) = 0
                gy = c.randn(*((2, 3, 4) if red == "none" else ()))
                v = c.randn(2, 3, 4)
                xl, tl = leaf(x), leaf(t)
                y = fn(xl, tl, reduction=reductions[red])
                gx, gt = grad(y, [xl, tl], gy, create_graph=True)
                c.put(x=x, y=y, gy=gy, gx=gx)
                if target is None:
                    c.put(target=t, gtarget=gt)
                if lname == "mse":
                    (ggx,) = grad(gx, [xl], v)
                    c.put(v=v, ggx=ggx)
    return g.write()


def optimizer_steps(c, shapes, steps, make):
    """Parameters of `shapes` and the optimizer make(params) after `steps` steps on gradients
    drawn per step, each with an exact zero (the update is driven by eps and the state) and a
    1e-6-scaled entry (the root of the squared average in eps territory); the initial values,
    gradients and parameters after every step go into the case."""
    params = [torch.nn.Parameter(c.randn(*s)) for s in shapes]
    for i, p in enumerate(params):
        c.put(**{f"p{i}_init": p})
    opt = make(params)
    for s in range(1, steps + 1):
        for i, p in enumerate(params):
            gr = c.randn(*p.shape)
            gr.view(-1)[0] = 0.0
            gr.view(-1)[1] *= 1e-6
            p.grad = gr
            c.put(**{f"g{i}_step{s}": gr})
        opt.step()
        for i, p in enumerate(params):
            c.put(**{f"p{i}_step{s}": p})
    return params, opt


def optim_family():
    g = Golden("optim")
    shapes = [(4, 3), (5,)]
    configs = {
        "adam": (torch.optim.Adam, dict(lr=1e-2, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.0),
                 False),
        "adam_l2": (torch.optim.Adam, dict(lr=1e-2, betas=(0.9, 0.99), eps=1e-8,
                                           weight_decay=0.1), False),
        "adamw": (torch.optim.AdamW, dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8,
                                          weight_decay=0.01), True),
    }
    steps = 3
    for name, (cls, kw, decoupled) in configs.items():
        kw = {k: tuple(map(f32, v)) if isinstance(v, tuple) else f32(v) for k, v in kw.items()}
        c = g.case(name, lr=kw["lr"], beta1=kw["betas"][0], beta2=kw["betas"][1], eps=kw["eps"],
                   weight_decay=kw["weight_decay"], decoupled_weight_decay=decoupled, steps=steps,
                   params=len(shapes))
        params, opt = optimizer_steps(c, shapes, steps, lambda ps: cls(ps, **kw))
        for i, p in enumerate(params):
            st = opt.state[p]
            c.put(**{f"exp_avg{i}": st["exp_avg"], f"exp_avg_sq{i}": st["exp_avg_sq"]})

    rms_configs = {
        "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0),
        "rmsprop_l2": dict(lr=5e-3, alpha=0.9, eps=1e-6, weight_decay=0.1),
    }
    for name, kw in rms_configs.items():
        kw = {k: f32(v) for k, v in kw.items()}
        c = g.case(name, steps=steps, params=len(shapes), **kw)
        params, opt = optimizer_steps(
            c, shapes, steps, lambda ps: torch.optim.RMSprop(ps, momentum=0.0, centered=False, **kw))
        for i, p in enumerate(params):
            c.put(**{f"square_avg{i}": opt.state[p]["square_avg"]})

    decay = f32(0.9)
    c = g.case("ema", decay=decay, steps=steps, params=len(shapes))
    avgs = [c.randn(*s) for s in shapes]
    for i, a in enumerate(avgs):
        c.put(**{f"avg{i}_init": a})
    for s in range(1, steps + 1):
        for i, a in enumerate(avgs):
            src = c.randn(*a.shape)
            a.copy_(src.lerp(a, decay))  # StyleGAN's p_ema.copy_(p.lerp(p_ema, beta))
            c.put(**{f"src{i}_step{s}": src, f"avg{i}_step{s}": a.clone()})
    return g.write()


def main():
    if not torch.__version__.startswith("1.13"):
        print(f"note: goldens were made with torch 1.13, this is {torch.__version__}",
              file=sys.stderr)
    os.makedirs(OUT_DIR, exist_ok=True)
    total = sum(f() for f in (conv_family, bias_act_family, spectral_norm_family,
                              gradient_penalty_family, batch_norm_family, instance_norm_family,
                              minibatch_stddev_family, minibatch_discrimination_family,
                              pixel_norm_family, upsample_family,
                              resize_family, pad_family, loss_family, optim_family,
                              pixel_shuffle_family, prelu_family))
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
