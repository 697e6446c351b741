#pragma once
// PSNR and SSIM as the super-resolution literature measures them (SRCNN, SRGAN, BasicSR): on the
// luma Y of ITU-R BT.601 YCbCr as MATLAB's rgb2ycbcr computes it,
//   Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255   (R, G, B in [0, 255]; Y in [16, 235]),
// a gray image being its own luma, after both images are quantised to 8 bits (as saved images
// are) and `border` pixels are cropped from every side. SSIM is Wang et al.'s: an 11x11 Gaussian
// window with sigma 1.5 over the valid region, C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, the mean
// of the map.
#include <cstdint>
#include <vector>

namespace ge::models::metrics {

// The Y plane of an image [C, H, W] (C 1 or 3) of floats in [-1, 1], each value first rounded to
// its 8-bit level (v + 1) * 127.5 as save_image_grid writes it: [H, W] doubles.
std::vector<double> luma_y(const std::vector<float>& image, int64_t channels, int64_t height,
                           int64_t width);

// Of two [H, W] planes, with `border` pixels cropped from each side first. Identical planes have
// PSNR +infinity. Throws ge::Error when the sizes differ or the cropped plane is smaller than
// the SSIM window.
double psnr(const std::vector<double>& a, const std::vector<double>& b, int64_t height,
            int64_t width, int64_t border);
double ssim(const std::vector<double>& a, const std::vector<double>& b, int64_t height,
            int64_t width, int64_t border);

}  // namespace ge::models::metrics
