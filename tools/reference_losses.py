"""Reference values for the losses of plugins/train/loss.cpp, computed with PyTorch autograd.

Run with Debian's python3-torch: /usr/bin/python3 tools/reference_losses.py
The numbers it prints are pasted into tests/train/optimizer_test.cpp ("focal loss and logit
adjustment follow PyTorch"); PyTorch is never a run-time dependency of the tool.
"""
import torch

torch.set_printoptions(precision=10)
logits = torch.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0], [-1.0, 0.5, 0.25]], dtype=torch.float64, requires_grad=True)
labels = torch.tensor([1, 2, 0])
weights = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)


def report(name, loss):
    logits.grad = None
    loss.backward()
    print(name, "loss", f"{loss.item():.12g}")
    print(name, "grad", ", ".join(f"{g:.12g}" for g in logits.grad.flatten().tolist()))


# Focal loss (Lin et al. 2017) on the softmax: -w_y (1 - p_y)^gamma log p_y, divided by sum w_y.
for gamma in (0.0, 2.0):
    logp = torch.log_softmax(logits, dim=1).gather(1, labels[:, None]).squeeze(1)
    w = weights[labels]
    loss = (-w * (1 - logp.exp()) ** gamma * logp).sum() / w.sum()
    report(f"focal gamma={gamma}", loss)

# Logit-adjusted cross-entropy (Menon et al. 2021): softmax cross-entropy of z + tau log(prior).
prior = torch.tensor([0.7, 0.2, 0.1], dtype=torch.float64)
tau = 1.0
loss = torch.nn.functional.cross_entropy(logits + tau * prior.log(), labels)
report("logit-adjusted tau=1", loss)
