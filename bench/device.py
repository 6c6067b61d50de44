"""Where runs compute: the device's name as records give it, timing barriers, and CUDA's matmul precision.

Every CUDA run computes matmuls in full float32 (TF32 off), so a GPU run differs from a CPU run by rounding
only; records say so (`environment`'s `tf32`).
"""

import torch


def device_name(device):
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def synchronize(device):
    """Wait for the device's queued work (a no-op on the CPU), so that a timer reads finished work."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def full_precision():
    """Turn TF32 off for CUDA matmuls and convolutions (on by default for convolutions, off for matmuls in
    recent torch: set both, whatever the default); returns what records say."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return {"tf32": False}
