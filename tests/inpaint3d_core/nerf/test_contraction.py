import pytest
import torch

from inpaint3d_core.nerf.contraction import contract


@pytest.mark.parametrize("kind", ["linf", "l2"])
def test_contraction_is_linear_inside_and_bounded_outside(kind):
    inside = torch.tensor([[0.3, -0.2, 0.1]])
    assert torch.allclose(contract(inside, kind), (inside + 2) / 4)
    far = torch.tensor([[1e6, 0.0, 0.0], [0.0, -1e6, 0.0]])
    y = contract(far, kind)
    assert torch.allclose(y, torch.tensor([[1.0, 0.5, 0.5], [0.5, 0.0, 0.5]]), atol=1e-5)
    # monotone along a ray leaving the inner region
    r = torch.linspace(0.5, 50.0, 100)[:, None] * torch.tensor([[0.6, 0.8, 0.0]])
    radius = (contract(r, kind) - 0.5).norm(dim=-1)
    assert (radius[1:] >= radius[:-1] - 1e-7).all()


def test_inner_radius_scales_the_linear_region_and_none_clamps():
    x = torch.tensor([[1.0, 0.0, 0.0]])
    assert torch.allclose(contract(x, "linf", inner_radius=2.0), torch.tensor([[0.625, 0.5, 0.5]]))
    assert torch.allclose(contract(torch.tensor([[5.0, 0.0, 0.0]]), "none"), torch.tensor([[1.0, 0.5, 0.5]]))
