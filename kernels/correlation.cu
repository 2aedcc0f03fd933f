// PWC-Net correlation (cost volume), float32, forward and backward.
//
// Loaded by workbench/ops/correlation.py with cupy.RawModule (NVRTC) and launched on torch's current stream;
// the exact PyTorch reference is workbench.ops.correlation's "torch" backend. Layout and launch shape are
// described in kernels/README.md. This file includes no headers so that NVRTC compiles it as is.
//
// Semantics (stride 1, d = max displacement, K = 2d + 1):
//   out[n, k, y, x] = (1 / C) * sum_c f1[n, c, y, x] * f2[n, c, y + dy, x + dx]
//   with dy = k / K - d, dx = k % K - d, and 0 where (y + dy, x + dx) lies outside the H x W image.
// All tensors are contiguous NCHW: f1, f2 and their gradients (N, C, H, W); out and its gradient (N, K*K, H, W).
//
// Every kernel is a 1-D grid-stride loop with one thread per element of the tensor it writes, the linear index
// running in memory order (x fastest), so writes are coalesced and neighbouring threads of a warp read
// neighbouring x. No shared memory, no atomics: each output element is written by exactly one thread, which
// makes the backward pass deterministic. Reuse of f1 / f2 across the K*K displacements is left to L1/L2.
// Linear indices are 64-bit so tensors beyond 2^31 elements are safe; per-axis coordinates fit in int.

extern "C" __global__ void correlation_forward(const float* __restrict__ f1, const float* __restrict__ f2,
                                               float* __restrict__ out, const int N, const int C, const int H,
                                               const int W, const int d) {
    const int K = 2 * d + 1;
    const long long hw = (long long)H * W;
    const long long total = (long long)N * K * K * hw;
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += step) {
        // i = ((n * K*K + k) * H + y) * W + x
        const int x = (int)(i % W);
        const int y = (int)((i / W) % H);
        const int k = (int)((i / hw) % (K * K));
        const int n = (int)(i / (hw * K * K));
        const int y2 = y + k / K - d;  // row of the f2 sample
        const int x2 = x + k % K - d;  // column of the f2 sample
        float acc = 0.0f;
        if (y2 >= 0 && y2 < H && x2 >= 0 && x2 < W) {
            const float* p1 = f1 + (long long)n * C * hw + (long long)y * W + x;
            const float* p2 = f2 + (long long)n * C * hw + (long long)y2 * W + x2;
            for (int c = 0; c < C; ++c) {
                acc += p1[c * hw] * p2[c * hw];
            }
            acc /= (float)C;  // mean over channels, as the PyTorch reference divides the sum by C
        }
        out[i] = acc;  // zero outside: every element is written, so out needs no zero fill
    }
}

// grad_f1[n, c, y, x] = (1 / C) * sum_k grad_out[n, k, y, x] * f2[n, c, y + dy_k, x + dx_k]   (inside only)
extern "C" __global__ void correlation_backward_f1(const float* __restrict__ grad_out, const float* __restrict__ f2,
                                                   float* __restrict__ grad_f1, const int N, const int C,
                                                   const int H, const int W, const int d) {
    const int K = 2 * d + 1;
    const long long hw = (long long)H * W;
    const long long total = (long long)N * C * hw;
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += step) {
        // i = ((n * C + c) * H + y) * W + x
        const int x = (int)(i % W);
        const int y = (int)((i / W) % H);
        const long long nc = i / hw;  // n * C + c
        const int n = (int)(nc / C);
        const float* g = grad_out + (long long)n * K * K * hw + (long long)y * W + x;  // grad_out[n, 0, y, x]
        const float* p2 = f2 + nc * hw;                                                  // f2[n, c, 0, 0]
        float acc = 0.0f;
        for (int k = 0; k < K * K; ++k) {
            const int y2 = y + k / K - d;
            const int x2 = x + k % K - d;
            if (y2 >= 0 && y2 < H && x2 >= 0 && x2 < W) {
                acc += g[k * hw] * p2[(long long)y2 * W + x2];
            }
        }
        grad_f1[i] = acc / (float)C;
    }
}

// grad_f2[n, c, y, x] = (1 / C) * sum_k grad_out[n, k, y - dy_k, x - dx_k] * f1[n, c, y - dy_k, x - dx_k]
// (the f1 pixels whose displacement k lands on (y, x); only those inside the image). Gathering instead of
// scattering from the f1 side avoids atomics.
extern "C" __global__ void correlation_backward_f2(const float* __restrict__ grad_out, const float* __restrict__ f1,
                                                   float* __restrict__ grad_f2, const int N, const int C,
                                                   const int H, const int W, const int d) {
    const int K = 2 * d + 1;
    const long long hw = (long long)H * W;
    const long long total = (long long)N * C * hw;
    const long long step = (long long)blockDim.x * gridDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += step) {
        const int x = (int)(i % W);
        const int y = (int)((i / W) % H);
        const long long nc = i / hw;
        const int n = (int)(nc / C);
        const float* g = grad_out + (long long)n * K * K * hw;  // grad_out[n, 0, 0, 0]
        const float* p1 = f1 + nc * hw;                         // f1[n, c, 0, 0]
        float acc = 0.0f;
        for (int k = 0; k < K * K; ++k) {
            const int y1 = y - (k / K - d);  // the f1 pixel that reaches (y, x) through displacement k
            const int x1 = x - (k % K - d);
            if (y1 >= 0 && y1 < H && x1 >= 0 && x1 < W) {
                const long long p = (long long)y1 * W + x1;
                acc += g[k * hw + p] * p1[p];
            }
        }
        grad_f2[i] = acc / (float)C;
    }
}
