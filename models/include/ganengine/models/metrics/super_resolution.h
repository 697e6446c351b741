#pragma once
// `gan eval` for super-resolution models (SRResNet, SRGAN): PSNR and SSIM (image_quality.h: Y of
// YCbCr, 8-bit, border = the scale) of the model's x4 and of bicubic x4 against held-out
// originals, per image and as means.
#include <string>

#include "ganengine/models/data/dataset.h"

#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/models/srgan.h"

namespace ge::models::metrics {

// The held-out images of `data` (the trainer's --data): an image folder DIR (images:, folder: or
// bare) is read from its sibling DIR/../test when DIR is named "train" and that exists, else from
// DIR itself, each photograph whole; MNIST ("mnist:DIR") from its test split, the first
// options.num_samples digits. Each original is cropped at the bottom and right to a multiple of
// the scale (MATLAB's modcrop), downscaled as the model trains (SrGan::downscale) and quantised to
// 8 bits, as a low-resolution file would be; the model's output and bicubic x4 (PIL/MATLAB
// convention, a = -0.5) of that input are scored against the original. An image under 4x4, or
// too small for the SSIM window after the border, throws ge::Error naming it. Returns
// pretty-printed JSON: arch, eval_data, scale, border, images, psnr, ssim, bicubic_psnr,
// bicubic_ssim (means) and per_image [{name, width, height, psnr, ssim, bicubic_psnr,
// bicubic_ssim}] (per_image for folders only).
// An original image as a batch of one [1, C, H, W], cut at the bottom and right to sides that
// are multiples of the scale (MATLAB's modcrop); under 4x4 it throws ge::Error naming `name`.
Tensor cut_to_scale(const data::ImageData& image, const std::string& name);
// The low-resolution input an original hr [N, C, H, W] (H, W multiples of 4) is scored from:
// SrGan::downscale quantised to 8-bit levels, as a saved low-resolution image holds it.
Tensor low_resolution_input(const Tensor& hr);
// The bicubic x4 baseline of a low-resolution image (PIL/MATLAB convention, a = -0.5).
Tensor bicubic_x4(const Tensor& lr);

std::string evaluate_super_resolution(SrGan& model, const std::string& data,
                                      const EvalOptions& options);

}  // namespace ge::models::metrics
