"""Any diffusers Stable-Diffusion inpainting pipeline as an `InpaintingPrior`.

The UNet of an inpainting checkpoint takes 9 channels: the noisy latent, the hole mask at latent
resolution, and the VAE latent of the image with the hole blanked. For SDS the render is
encoded by the VAE WITH gradient (so the update reaches the NeRF), the conditioning image
without; the noise prediction is guided (classifier-free, default scale 7.5) between the prompt
and the negative prompt, whose text embeddings are computed once at load time. Everything
else about SDS (timesteps, weighting, masking, the surrogate) is `priors.sds`.

Default checkpoint: `stabilityai/stable-diffusion-2-inpainting` (512 px, epsilon prediction).
Users download it on their own machine; a local folder is loaded with `local_files_only`.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import StableDiffusionInpaintPipeline

from inpaint3d_core.errors import InputError
from inpaint3d_core.priors.base import SDSOutput
from inpaint3d_core.priors.config import DEFAULT_MODEL, SDSConfig
from inpaint3d_core.priors.sds import gate_gradient_to_hole, hole_at_resolution, score_distillation

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def _download_advice() -> str:
    return (
        "download an inpainting checkpoint on a machine with internet, e.g. "
        f"`hf download {DEFAULT_MODEL} --local-dir ./sd2-inpainting`, copy the folder here and pass "
        "its path as the prior model (or use the internal prior, which needs no weights)"
    )


def resolve_model_source(model: str) -> tuple[str, bool]:
    """(what to pass to from_pretrained, whether it is a local folder).

    A string that names an existing path, or does not look like `org/name`, is a local folder;
    a missing folder is a user error, reported before diffusers gives a less direct one.
    """
    path = Path(model).expanduser()
    if path.exists() or not _HUB_ID.match(model):
        if not (path / "model_index.json").is_file():
            raise InputError(f"prior model folder {path} not found or has no model_index.json: {_download_advice()}")
        return str(path), True
    return model, False


def torch_dtype_for(name: str, device: torch.device) -> torch.dtype:
    """'auto' = float16 on CUDA, float32 elsewhere; float16 on CPU is refused (slow, unsupported ops)."""
    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[name]
    if dtype == torch.float16 and device.type != "cuda":
        raise InputError(f"prior dtype float16 needs a CUDA device (got {device}); use float32 or bfloat16")
    return dtype


class StableDiffusionInpaintPrior:
    """SDS and whole-image inpainting from a (frozen) diffusers inpainting pipeline."""

    def __init__(
        self,
        pipeline: StableDiffusionInpaintPipeline,
        prompt_embeds: torch.Tensor,
        negative_prompt_embeds: torch.Tensor,
        guidance_scale: float = 7.5,
        sds: SDSConfig | None = None,
        resolution: int | None = None,
        num_inference_steps: int = 50,
        crop_context: float = 2.0,
        seed: int = 0,
    ):
        if pipeline.unet.config.in_channels != 9:
            raise InputError(
                f"prior model has a {pipeline.unet.config.in_channels}-channel UNet; an inpainting checkpoint "
                f"(9 channels: latent, mask, masked-image latent) is needed, e.g. {DEFAULT_MODEL}"
            )
        prediction = pipeline.scheduler.config.get("prediction_type", "epsilon")
        if prediction != "epsilon":
            raise InputError(f"prior model predicts {prediction!r}; only epsilon-prediction inpainting models work")
        for module in (pipeline.unet, pipeline.vae, pipeline.text_encoder):
            if module is not None:
                module.requires_grad_(False).eval()
        pipeline.set_progress_bar_config(disable=True)
        self.pipeline = pipeline
        self.device = pipeline.unet.device
        self.dtype = pipeline.unet.dtype
        self.latent_factor = pipeline.vae_scale_factor
        self.resolution = int(resolution or pipeline.unet.config.sample_size * self.latent_factor)
        self.guidance_scale = float(guidance_scale)
        self.sds = sds or SDSConfig()
        self.num_inference_steps = num_inference_steps
        self.crop_context = crop_context
        self.alphas_cumprod = pipeline.scheduler.alphas_cumprod.to(self.device, torch.float32)
        self.prompt_embeds = prompt_embeds.to(self.device, self.dtype)
        self.negative_prompt_embeds = negative_prompt_embeds.to(self.device, self.dtype)
        self._generator = torch.Generator().manual_seed(seed)

    @classmethod
    def from_pretrained(
        cls,
        model: str = DEFAULT_MODEL,
        device: str | torch.device = "cuda",
        dtype: str = "auto",
        prompt: str = "",
        negative_prompt: str = "",
        **kwargs,
    ) -> StableDiffusionInpaintPrior:
        """Load a hub id or local folder (the path every user checkpoint takes); never remote code."""
        device = torch.device(device)
        torch_dtype = torch_dtype_for(dtype, device)
        source, local = resolve_model_source(model)
        try:
            pipeline = StableDiffusionInpaintPipeline.from_pretrained(
                source,
                dtype=torch_dtype,
                local_files_only=local,
                # accelerate (optional) lets diffusers skip the random init of a 865M-param UNet
                low_cpu_mem_usage=importlib.util.find_spec("accelerate") is not None,
            )
        except OSError as exc:
            raise InputError(f"could not load prior model {model!r} ({exc}); {_download_advice()}") from exc
        return cls.from_pipeline(pipeline.to(device), prompt=prompt, negative_prompt=negative_prompt, **kwargs)

    @classmethod
    def from_pipeline(
        cls,
        pipeline: StableDiffusionInpaintPipeline,
        prompt: str = "",
        negative_prompt: str = "",
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        **kwargs,
    ) -> StableDiffusionInpaintPrior:
        """Wrap a built pipeline; text embeddings are given, or encoded once with its text encoder."""
        if prompt_embeds is None or negative_prompt_embeds is None:
            if pipeline.text_encoder is None:
                raise ValueError("a pipeline without text encoder needs prompt_embeds and negative_prompt_embeds")
            with torch.no_grad():
                prompt_embeds, negative_prompt_embeds = pipeline.encode_prompt(
                    prompt,
                    pipeline.unet.device,
                    num_images_per_prompt=1,
                    do_classifier_free_guidance=True,
                    negative_prompt=negative_prompt,
                )
        return cls(pipeline, prompt_embeds, negative_prompt_embeds, **kwargs)

    def _encode(self, image01: torch.Tensor) -> torch.Tensor:
        """VAE latent (mean of the posterior, times the scaling factor) of an image in [0, 1]."""
        vae = self.pipeline.vae
        posterior = vae.encode((image01 * 2.0 - 1.0).to(self.dtype)).latent_dist
        return posterior.mean * vae.config.scaling_factor

    def _check(self, rendered: torch.Tensor, cond_image: torch.Tensor, mask: torch.Tensor) -> None:
        b, _, h, w = rendered.shape
        if cond_image.shape != rendered.shape or mask.shape != (b, 1, h, w):
            raise ValueError(
                f"sds_loss: rendered {tuple(rendered.shape)}, cond_image {tuple(cond_image.shape)} and mask "
                f"{tuple(mask.shape)} must be (B,3,H,W), (B,3,H,W), (B,1,H,W)"
            )
        if h % self.latent_factor or w % self.latent_factor:
            raise ValueError(f"sds_loss: H, W = {h}, {w} must be multiples of {self.latent_factor}")

    def _guided_eps(
        self, noisy: torch.Tensor, t: torch.Tensor, mask_latent: torch.Tensor, masked_latent: torch.Tensor
    ) -> torch.Tensor:
        batch = noisy.shape[0]
        unet_input = torch.cat([noisy, mask_latent, masked_latent], dim=1)
        embeds = torch.cat(
            [self.negative_prompt_embeds.expand(batch, -1, -1), self.prompt_embeds.expand(batch, -1, -1)]
        )
        out = self.pipeline.unet(unet_input.repeat(2, 1, 1, 1), t.repeat(2), encoder_hidden_states=embeds).sample
        uncond, cond = out.float().chunk(2)
        return uncond + self.guidance_scale * (cond - uncond)

    def sds_loss(
        self, rendered: torch.Tensor, cond_image: torch.Tensor, mask: torch.Tensor, progress: float
    ) -> SDSOutput:
        self._check(rendered, cond_image, mask)
        hole = (mask > 0.5).to(torch.float32)
        latent = self._encode(gate_gradient_to_hole(rendered, hole))
        latent_size = tuple(latent.shape[-2:])
        with torch.no_grad():
            masked_latent = self._encode(cond_image * (1.0 - hole))
            # the UNet's mask channel as the pipeline makes it (nearest), the gradient mask dilated
            mask_latent = F.interpolate(hole, size=latent_size).to(self.dtype)

        def denoise(noisy: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self._guided_eps(noisy, t, mask_latent, masked_latent)

        step = score_distillation(
            latent,
            hole_at_resolution(hole, latent_size),
            denoise,
            self.alphas_cumprod,
            self.sds,
            progress,
            self._generator,
        )
        return step.to_output()

    @torch.no_grad()
    def inpaint(self, image: torch.Tensor, mask: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Sample the hole with the pipeline at the prior's resolution; known pixels are kept exactly."""
        size = image.shape[-2:]
        batch = image.shape[0]
        hole = (mask > 0.5).to(torch.float32)
        res = (self.resolution, self.resolution)
        filled = self.pipeline(
            prompt_embeds=self.prompt_embeds.expand(batch, -1, -1),
            negative_prompt_embeds=self.negative_prompt_embeds.expand(batch, -1, -1),
            image=F.interpolate(image.float(), size=res, mode="bilinear", antialias=True).clamp(0, 1),
            mask_image=F.interpolate(hole, size=res, mode="nearest"),
            height=self.resolution,
            width=self.resolution,
            num_inference_steps=self.num_inference_steps,
            guidance_scale=self.guidance_scale,
            generator=torch.Generator().manual_seed(seed),
            output_type="pt",
        ).images
        filled = F.interpolate(filled.float().to(image.device), size=size, mode="bilinear", antialias=True)
        return torch.where(hole > 0.5, filled.clamp(0, 1).to(image), image)
