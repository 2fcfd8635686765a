"""Joint optimisation of one NeRF: reconstruction outside the masks, SDS and depth inside them."""
