"""The PWC-Net correlation op: exact semantics against a naive loop, gradients, channel order, backend switch,
the CUDA source (nvcc compile; host emulation of the kernels with g++), and CuPy vs torch on a GPU."""

from __future__ import annotations

import ctypes
import importlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from workbench.ops import (
    Correlation,
    available_backends,
    correlation,
    correlation_flops_bytes,
    get_backend,
    use_backend,
)

# The package exports the function ``correlation``, which shadows the submodule as an attribute of
# ``workbench.ops``; import_module returns the module itself (for its internals: monkeypatched below).
corr = importlib.import_module("workbench.ops.correlation")
ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "kernels" / "correlation.cu"
ENV = "WORKBENCH_CORR_BACKEND"


def naive_correlation(f1: torch.Tensor, f2: torch.Tensor, d: int) -> np.ndarray:
    """PWC-Net's definition written out with loops: channel k ↔ (dy, dx) = (k // K − d, k % K − d)."""
    a, b = f1.detach().double().numpy(), f2.detach().double().numpy()
    N, C, H, W = a.shape
    K = 2 * d + 1
    out = np.zeros((N, K * K, H, W))
    for n in range(N):
        for y in range(H):
            for x in range(W):
                for k in range(K * K):
                    y2, x2 = y + k // K - d, x + k % K - d
                    if 0 <= y2 < H and 0 <= x2 < W:
                        out[n, k, y, x] = float(np.dot(a[n, :, y, x], b[n, :, y2, x2])) / C
    return out


def features(shape, dtype=torch.float64, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    f1 = torch.randn(shape, generator=g, dtype=torch.float64)
    f2 = torch.randn(shape, generator=g, dtype=torch.float64)
    return f1.to(device=device, dtype=dtype), f2.to(device=device, dtype=dtype)


@pytest.fixture(autouse=True)
def default_backend(monkeypatch):
    """Every test starts from 'auto' whatever the caller's environment says."""
    monkeypatch.delenv(ENV, raising=False)


# ------------------------------------------------------------------------------------------ torch reference

# (N, C, H, W, d): batch > 1, non-square, odd sizes, widths beyond one 16-column tile (with a remainder),
# displacements larger than the image, C up to PWC-Net's 196 (on a tiny image).
SHAPES = [
    (2, 1, 5, 7, 1),
    (3, 3, 9, 4, 2),
    (2, 16, 5, 7, 3),
    (1, 16, 6, 21, 4),
    (2, 3, 7, 33, 4),
    (2, 196, 3, 4, 4),
    (1, 3, 1, 1, 2),
    (2, 3, 4, 5, 0),
]


@pytest.mark.parametrize("N,C,H,W,d", SHAPES)
def test_torch_backend_equals_naive_loops(N, C, H, W, d):
    f1, f2 = features((N, C, H, W), seed=N * 1000 + C + H + W + d)
    with use_backend("torch"):
        out = correlation(f1, f2, d)
    assert out.shape == (N, (2 * d + 1) ** 2, H, W) and out.dtype == torch.float64 and out.is_contiguous()
    np.testing.assert_allclose(out.numpy(), naive_correlation(f1, f2, d), rtol=1e-6, atol=1e-12)


def test_float32_is_close_to_float64():
    f1, f2 = features((2, 32, 12, 20), dtype=torch.float32)
    out = correlation(f1, f2, 4)
    assert out.dtype == torch.float32
    ref = correlation(f1.double(), f2.double(), 4)
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=1e-6)


# Full Jacobians on a tiny case; random projections (fast_mode) on a batch whose width spans two column tiles.
@pytest.mark.parametrize("N,C,H,W,d,fast", [(1, 3, 3, 5, 2, False), (2, 2, 3, 18, 1, True)])
def test_gradcheck_both_inputs(N, C, H, W, d, fast):
    f1, f2 = features((N, C, H, W), seed=7)
    f1.requires_grad_(True)
    f2.requires_grad_(True)
    with use_backend("torch"):
        assert torch.autograd.gradcheck(lambda a, b: correlation(a, b, d), (f1, f2), eps=1e-6, atol=1e-7,
                                        fast_mode=fast)


def test_gradgradcheck_torch_backend():
    f1, f2 = features((1, 2, 2, 3), seed=8)
    f1.requires_grad_(True)
    f2.requires_grad_(True)
    assert torch.autograd.gradgradcheck(lambda a, b: correlation(a, b, 1), (f1, f2), fast_mode=True)


def test_gradient_of_one_output_by_hand():
    """d out[0, k, y, x] / d f1[0, c, y, x] = f2[0, c, y+dy, x+dx] / C, and the mirror for f2."""
    f1, f2 = features((1, 5, 6, 7), seed=3)
    f1.requires_grad_(True)
    f2.requires_grad_(True)
    d, K = 2, 5
    k, y, x = 2 * K + 4, 3, 2  # dy = 0, dx = +2
    correlation(f1, f2, d)[0, k, y, x].backward()
    expected1 = torch.zeros_like(f1)
    expected1[0, :, y, x] = f2[0, :, y, x + 2].detach() / 5
    expected2 = torch.zeros_like(f2)
    expected2[0, :, y, x + 2] = f1[0, :, y, x].detach() / 5
    torch.testing.assert_close(f1.grad, expected1, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(f2.grad, expected2, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------------------ channel order


def test_channel_of_a_known_shift():
    """f2 = f1 moved by (dx, dy) = (2, −1): channel (dy+d)·9 + (dx+d) = 33 is mean(f1²) inside, 0 outside."""
    N, C, H, W, d = 2, 16, 9, 11, 4
    f1, _ = features((N, C, H, W), seed=5)
    f1 = f1 / f1.norm(dim=1, keepdim=True)  # unit vectors: by Cauchy–Schwarz only the true match reaches 1/C
    dx, dy = 2, -1
    f2 = torch.roll(f1, shifts=(dy, dx), dims=(2, 3))  # f2[y + dy, x + dx] = f1[y, x] (wrapped parts unused)
    out = correlation(f1, f2, d)
    k = (dy + d) * (2 * d + 1) + (dx + d)
    assert k == 33
    inside = torch.zeros(H, W, dtype=torch.bool)
    inside[max(0, -dy):H - max(0, dy), max(0, -dx):W - max(0, dx)] = True  # where (y+dy, x+dx) is in the image
    energy = (f1**2).mean(1)  # (N, H, W)
    torch.testing.assert_close(out[:, k][:, inside], energy[:, inside], rtol=1e-12, atol=0)
    assert torch.all(out[:, k][:, ~inside] == 0)
    # The matching channel is the strongest one at every interior pixel (not, e.g., the swapped (dx, dy)).
    assert torch.all(out.argmax(1)[:, inside] == k)
    assert torch.all(out[:, k][:, inside] > out[:, 57][:, inside] + 1e-6)


def test_zero_outside_pattern():
    """Ones everywhere: channel k is 1 exactly where (y+dy, x+dx) lies inside a 3×4 image, else 0."""
    out = correlation(torch.ones(1, 2, 3, 4), torch.ones(1, 2, 3, 4), 1)[0]
    for k in range(9):
        dy, dx = k // 3 - 1, k % 3 - 1
        expected = torch.zeros(3, 4)
        expected[max(0, -dy):3 - max(0, dy), max(0, -dx):4 - max(0, dx)] = 1.0
        assert torch.equal(out[k], expected), (k, dy, dx)


# ------------------------------------------------------------------------------------------ API and checks


def test_module_and_flops_bytes():
    f1, f2 = features((1, 4, 6, 8), dtype=torch.float32)
    module = Correlation(3)
    assert "max_displacement=3" in repr(module) and not list(module.parameters())
    assert torch.equal(module(f1, f2), correlation(f1, f2, 3))
    assert Correlation()(f1, f2).shape == (1, 81, 6, 8)
    outputs = 81 * 48 * 80
    assert correlation_flops_bytes(1, 32, 48, 80, 4) == (2 * 32 * outputs, 4 * (2 * 32 * 48 * 80 + outputs))


@pytest.mark.parametrize("shape", [(0, 3, 4, 5), (2, 0, 4, 5), (2, 3, 0, 5), (2, 3, 4, 0)])
def test_empty_inputs_give_zeros(shape):
    f1 = torch.zeros(shape, requires_grad=True)
    out = correlation(f1, torch.zeros(shape), 2)
    assert out.shape == (shape[0], 25, shape[2], shape[3]) and torch.all(out == 0)
    out.sum().backward()
    assert f1.grad.shape == shape


@pytest.mark.parametrize(
    "f1,f2,d,match",
    [
        (torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 5), 4, "one shape"),
        (torch.zeros(2, 3, 4), torch.zeros(2, 3, 4), 4, "one shape"),
        (torch.zeros(1, 2, 3, 4, dtype=torch.int64), torch.zeros(1, 2, 3, 4, dtype=torch.int64), 4, "floating"),
        (torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4, dtype=torch.float64), 4, "dtype"),
        (torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4), -1, "max_displacement"),
        (torch.zeros(1, 2, 3, 4), torch.zeros(1, 2, 3, 4), 1.5, "max_displacement"),
        (np.zeros((1, 2, 3, 4)), torch.zeros(1, 2, 3, 4), 4, "torch.Tensor"),
    ],
)
def test_bad_inputs(f1, f2, d, match):
    with pytest.raises(ValueError, match=match):
        correlation(f1, f2, d)


# ------------------------------------------------------------------------------------------ backend switch


def test_backend_from_env_and_context(monkeypatch):
    assert get_backend() == "auto"
    monkeypatch.setenv(ENV, "torch")
    assert get_backend() == "torch"
    monkeypatch.setenv(ENV, " CuPy ")
    assert get_backend() == "cupy"
    with use_backend("torch") as chosen:  # the context manager wins over the environment
        assert chosen == "torch" and get_backend() == "torch"
        with use_backend("auto"):
            assert get_backend() == "auto"
        assert get_backend() == "torch"
    assert get_backend() == "cupy"
    monkeypatch.setenv(ENV, "cuda")
    with pytest.raises(ValueError, match=ENV):
        get_backend()
    with pytest.raises(ValueError, match="unknown correlation backend"):
        with use_backend("triton"):
            pass


def test_context_is_restored_after_an_error():
    with pytest.raises(KeyError):
        with use_backend("cupy"):
            raise KeyError("boom")
    assert get_backend() == "auto"


def test_auto_runs_torch_on_cpu(monkeypatch):
    calls = []
    reference = corr._correlation_torch
    monkeypatch.setattr(corr, "_correlation_torch", lambda *a: calls.append(a) or reference(*a))
    monkeypatch.setattr(corr, "_CupyCorrelation", None)  # any attempt at the CUDA path would fail loudly
    f1, f2 = features((1, 2, 3, 4), dtype=torch.float32)
    correlation(f1, f2, 1)
    monkeypatch.setenv(ENV, "auto")
    correlation(f1, f2, 1)
    assert len(calls) == 2
    assert "torch" in available_backends()
    if not torch.cuda.is_available():
        assert available_backends() == ["torch"]


def test_explicit_cupy_on_cpu_is_an_error(monkeypatch):
    f1, f2 = features((1, 2, 3, 4), dtype=torch.float32)
    with use_backend("cupy"), pytest.raises(RuntimeError, match="CUDA tensors"):
        correlation(f1, f2, 1)
    monkeypatch.setenv(ENV, "cupy")
    with pytest.raises(RuntimeError, match="cupy"):
        correlation(f1, f2, 1)
    # Without CuPy the message names it too.
    monkeypatch.setattr(corr, "_import_cupy", lambda: None)
    with pytest.raises(RuntimeError, match="CuPy, which did not import"):
        correlation(f1, f2, 1)
    with use_backend("torch"):  # the reference still answers when asked for
        assert correlation(f1, f2, 1).shape == (1, 9, 3, 4)


# ------------------------------------------------------------------------------------------ the CUDA source


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not on PATH")
def test_kernel_source_compiles_with_nvcc(tmp_path):
    ptx = tmp_path / "correlation.ptx"
    result = subprocess.run(["nvcc", "-arch=sm_90", "--ptx", "-Werror", "all-warnings", str(KERNEL), "-o", str(ptx)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = ptx.read_text()
    for name in corr.KERNEL_NAMES:  # extern "C": unmangled entry points that RawModule.get_function finds
        assert f".entry {name}(" in text, name


SHIM = r"""
// Runs the CUDA kernels on the host, one simulated thread at a time: they use neither shared memory nor
// synchronisation, so a sequential loop over (block, thread) computes exactly what the GPU would.
struct Dim3 { unsigned int x, y, z; };
static Dim3 threadIdx, blockIdx, blockDim, gridDim;
#define __global__
#include "KERNEL"
typedef void (*Kernel)(const float*, const float*, float*, int, int, int, int, int);
extern "C" void emulate(int which, unsigned blocks, unsigned threads, const float* a, const float* b, float* out,
                        int N, int C, int H, int W, int d) {
    Kernel kernels[3] = {correlation_forward, correlation_backward_f1, correlation_backward_f2};
    gridDim = {blocks, 1, 1};
    blockDim = {threads, 1, 1};
    for (unsigned bi = 0; bi < blocks; ++bi)
        for (unsigned t = 0; t < threads; ++t) {
            blockIdx = {bi, 0, 0};
            threadIdx = {t, 0, 0};
            kernels[which](a, b, out, N, C, H, W, d);
        }
}
"""


@pytest.fixture(scope="module")
def host_kernels(tmp_path_factory):
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no C++ compiler to emulate the kernels on the host")
    folder = tmp_path_factory.mktemp("kernels")
    (folder / "shim.cpp").write_text(SHIM.replace("KERNEL", str(KERNEL)))
    library = folder / "shim.so"
    result = subprocess.run([compiler, "-std=c++14", "-O2", "-shared", "-fPIC", "-Wall", "-Werror",
                             str(folder / "shim.cpp"), "-o", str(library)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lib = ctypes.CDLL(str(library))
    pointer = ctypes.POINTER(ctypes.c_float)
    lib.emulate.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint, pointer, pointer, pointer] + [ctypes.c_int] * 5

    def run(which: int, a: np.ndarray, b: np.ndarray, out_shape, d: int, blocks: int, threads: int = 32):
        a, b = np.ascontiguousarray(a, np.float32), np.ascontiguousarray(b, np.float32)
        out = np.full(out_shape, np.nan, np.float32)  # NaN shows any element a kernel forgets to write
        N, C, H, W = (a if which == 0 else b).shape
        lib.emulate(which, blocks, threads, *(x.ctypes.data_as(pointer) for x in (a, b, out)), N, C, H, W, d)
        return out

    return run


@pytest.mark.parametrize("N,C,H,W,d,blocks", [(2, 3, 5, 7, 2, 3), (1, 16, 6, 9, 4, 1000), (2, 5, 4, 3, 4, 2)])
def test_kernels_on_the_host_match_the_reference(host_kernels, N, C, H, W, d, blocks):
    """The .cu arithmetic (indices, bounds, the grid-stride loop with few blocks) vs the torch reference."""
    f1, f2 = features((N, C, H, W), seed=11)
    f1.requires_grad_(True)
    f2.requires_grad_(True)
    K2 = (2 * d + 1) ** 2
    ref = correlation(f1, f2, d)
    grad_out = torch.randn(ref.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    ref.backward(grad_out)
    a, b, g = f1.detach().numpy(), f2.detach().numpy(), grad_out.numpy()
    out = host_kernels(0, a, b, (N, K2, H, W), d, blocks)
    grad_f1 = host_kernels(1, g, b, (N, C, H, W), d, blocks)
    grad_f2 = host_kernels(2, g, a, (N, C, H, W), d, blocks)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad_f1, f1.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad_f2, f2.grad.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ GPU: cupy vs torch


@pytest.fixture
def cuda_cupy():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    pytest.importorskip("cupy")
    assert "cupy" in available_backends()


def kernel_only(monkeypatch):
    """Count kernel launches and make the torch reference unusable, so a silent fallback fails the test."""
    launches = []
    launch = corr._launch
    monkeypatch.setattr(corr, "_launch", lambda name, *a: launches.append(name) or launch(name, *a))

    def no_reference(*args):
        raise AssertionError("the torch reference ran instead of the CUDA kernel")

    monkeypatch.setattr(corr, "_correlation_torch", no_reference)
    return launches


# (N, C, H, W, d): PWC-Net level 2 at 320×192 and 640×384, level 6 (196 channels), odd sizes, a big batch.
GPU_SHAPES = [(2, 32, 48, 80, 4), (1, 32, 96, 160, 4), (1, 196, 3, 5, 4), (3, 16, 5, 7, 3), (8, 64, 64, 96, 4)]


@pytest.mark.gpu
@pytest.mark.parametrize("N,C,H,W,d", GPU_SHAPES)
def test_cupy_matches_torch_forward_and_backward(cuda_cupy, monkeypatch, N, C, H, W, d):
    f1, f2 = features((N, C, H, W), dtype=torch.float32, seed=N + C + H, device="cuda")
    grad_out = torch.randn((N, (2 * d + 1) ** 2, H, W), device="cuda")
    # Reference in float64 on the GPU (exact up to rounding), through the torch backend.
    r1, r2 = f1.double().requires_grad_(True), f2.double().requires_grad_(True)
    with use_backend("torch"):
        ref = correlation(r1, r2, d)
    ref.backward(grad_out.double())
    launches = kernel_only(monkeypatch)
    k1, k2 = f1.clone().requires_grad_(True), f2.clone().requires_grad_(True)
    with use_backend("cupy"):
        out = correlation(k1, k2, d)
    out.backward(grad_out)
    assert launches == ["correlation_forward", "correlation_backward_f1", "correlation_backward_f2"]
    assert out.dtype == torch.float32 and out.is_cuda
    torch.testing.assert_close(out.double(), ref.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(k1.grad.double(), r1.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(k2.grad.double(), r2.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_cupy_auto_selection_streams_and_layouts(cuda_cupy, monkeypatch):
    f1, f2 = features((2, 8, 12, 20), dtype=torch.float32, device="cuda")
    with use_backend("torch"):
        ref = correlation(f1, f2, 4)
    launches = kernel_only(monkeypatch)
    assert torch.equal(correlation(f1, f2, 4), correlation(f1, f2, 4))  # auto → cupy on CUDA float32
    # Non-contiguous inputs (channels-last and a strided view) are made contiguous by the launcher.
    out = correlation(f1.to(memory_format=torch.channels_last), f2.to(memory_format=torch.channels_last), 4)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    wide1, wide2 = torch.cat([f1, f1], dim=3)[..., ::2], torch.cat([f2, f2], dim=3)[..., ::2]
    torch.testing.assert_close(correlation(wide1, wide2, 4), correlation(wide1.contiguous(), wide2.contiguous(), 4))
    # On a side stream the kernel is ordered after the work queued there.
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        g1, g2 = f1 * 2.0, f2.clone()
        out = correlation(g1, g2, 4)
    torch.cuda.current_stream().wait_stream(stream)
    torch.testing.assert_close(out, 2.0 * ref, rtol=1e-5, atol=1e-6)
    assert launches and set(launches) == {"correlation_forward"}
    assert torch.cuda.current_device() in corr._modules


@pytest.mark.gpu
def test_cupy_float64_runs_the_reference(cuda_cupy):
    f1, f2 = features((1, 4, 5, 6), device="cuda")
    with use_backend("cupy"):
        out = correlation(f1, f2, 2)
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.cpu().numpy(), naive_correlation(f1.cpu(), f2.cpu(), 2), rtol=1e-6, atol=1e-12)
