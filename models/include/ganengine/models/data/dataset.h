#pragma once
// Data sets: samples as float32 in [-1, 1] ([C, H, W] images or [2] points) with optional class
// labels, held in host memory. get() and label() may run on a DataLoader's prefetch thread while
// the caller's thread uses the data set too, so they must not modify shared state.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ganengine/shape.h"
#include "ganengine/tensor.h"

namespace ge::models::data {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::string name() const = 0;  // "mnist", "images", "ring8", "grid25"
  virtual int64_t size() const = 0;
  virtual Shape sample_shape() const = 0;            // [C, H, W] or [2]
  virtual int64_t num_classes() const { return 0; }  // 0: unlabelled
  // Writes sample `index` (sample_shape().numel() floats) to `out`.
  virtual void get(int64_t index, float* out) const = 0;
  virtual int64_t label(int64_t /*index*/) const { return -1; }
};

// How an image data set is shaped for a model: side `resolution` (MNIST's 28x28 is zero-padded,
// i.e. -1 after scaling, to 32; other sizes are resized/cropped) with `channels` channels.
struct ImageFormat {
  int64_t resolution = 32;
  int64_t channels = 1;
};

// MNIST IDX files in `dir`: train-images-idx3-ubyte + train-labels-idx1-ubyte (also the .gz-less
// t10k-* pair when `split` is "test"). A missing or corrupt file throws ge::Error naming the file
// and the defect (bad magic, wrong dimensions, truncated data, label count mismatch).
std::shared_ptr<Dataset> load_mnist(const std::string& dir, const ImageFormat& format,
                                    const std::string& split = "train");
// load_mnist of the bytes of an images file and a labels file already in memory; errors name
// `name`.
std::shared_ptr<Dataset> load_mnist_from_memory(std::string_view images, std::string_view labels,
                                                const ImageFormat& format, const std::string& name);
// Every PNG/JPEG/BMP in `dir` (sorted by name), center-cropped to square and resized to the
// format; unreadable files are named in the error. Unlabelled.
std::shared_ptr<Dataset> load_image_folder(const std::string& dir, const ImageFormat& format);
// The PNG/JPEG/BMP files directly in `dir` that load_image_folder reads, sorted by name; a
// missing directory or one without images throws ge::Error naming it.
std::vector<std::string> list_image_files(const std::string& dir);
// One image file as load_image_folder reads each of its files (channels converted, center-cropped
// and resized to the format): [C, R, R] floats in [-1, 1] written to `out`. A file that does not
// decode throws ge::Error naming it.
void load_image(const std::string& path, const ImageFormat& format, float* out);
// One image file at its own size, its channels converted as load_image converts them: planar
// [channels, height, width] floats in [-1, 1]. A file that does not decode throws ge::Error
// naming it.
struct ImageData {
  int64_t channels = 0, height = 0, width = 0;
  int64_t file_channels = 0;  // as stored: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
  std::vector<float> pixels;
};
ImageData read_image(const std::string& path, int64_t channels);
// Super-resolution training crops: sample i is a format.resolution-square crop of one of `files`
// (each crop position of each photograph equally likely), flipped and turned by one of the 8
// symmetries of the square, channels converted as load_image converts them. The crop is a hash of
// (seed, i) alone. `count` 0 means 2^20 samples per nominal epoch. A photograph smaller than the
// crop, or one that does not decode, throws ge::Error naming it.
std::shared_ptr<Dataset> make_photo_patches(const std::vector<std::string>& files,
                                            const ImageFormat& format, int64_t count = 0,
                                            uint64_t seed = 0);
// 2-D Gaussian mixtures, `count` samples drawn with `seed`: "ring8" (means (cos 2 pi i / 8,
// sin 2 pi i / 8), std 0.01) and "grid25" (means {-4, -2, 0, 2, 4}^2, std 0.05). Points are not
// rescaled; labels are the mode index.
std::shared_ptr<Dataset> make_gaussian_mixture(const std::string& kind, int64_t count = 100000,
                                               uint64_t seed = 0);
// The mixture's modes and standard deviation (for metrics and plots).
struct MixtureSpec {
  std::vector<std::pair<float, float>> means;
  float stddev = 0.f;
};
MixtureSpec gaussian_mixture_spec(const std::string& kind);

// Stacked MNIST (Metz et al. 2017; Srivastava et al. 2017): `count` samples, each three digits of
// `mnist` (one per channel, drawn from (seed, index) alone), [3, H, W]; the label is
// 100 d0 + 10 d1 + d2, so 1,000 classes. Throws unless `mnist` is labelled one-channel 10-class.
std::shared_ptr<Dataset> make_stacked_mnist(std::shared_ptr<const Dataset> mnist,
                                            int64_t count = 60000, uint64_t seed = 0);

inline constexpr const char* kSystemFontDir = "/usr/share/fonts";
// Digits 0-9 typeset in the TrueType faces typeset_fonts() lists (serif, sans, mono; regular,
// bold, italic) and placed as MNIST places its handwritten ones: each fitted to 20x20 in a 28x28
// box with its center of mass on pixel (14, 14), then scaled by 0.8-1.15 (less where it would
// leave the box), rotated by up to 10 degrees and shifted by up to 2 px; white on black,
// antialiased, the box padded to 32 like MNIST and scaled to the format's resolution (channels
// copy the gray value). The label is the digit. The digit, face and pose of a sample are a hash
// of (seed, split, index) alone, so get() holds no state and gives the same bytes on any thread;
// "train" and "test" draw from disjoint streams. `count` 0 means 60,000 for "train" and 10,000
// for "test". Fonts are looked up under `font_dir`: a missing face is skipped (the faces found
// decide the draw, so machines agree when they have the same fonts); with fewer than 10 found it
// throws ge::Error naming the missing files and their Debian packages, and a corrupt font file
// is named too.
std::shared_ptr<Dataset> make_typeset_digits(const ImageFormat& format, int64_t count = 0,
                                             uint64_t seed = 0, const std::string& split = "train",
                                             const std::string& font_dir = kSystemFontDir);
// A font file make_typeset_digits draws from (relative to its font directory) and the Debian
// package that installs it.
struct TypesetFont {
  std::string file;
  std::string package;
};
std::vector<TypesetFont> typeset_fonts();

// Data sets made of others (GANs as data augmentation: a small labelled subset, synthetic
// samples held in memory, and the two together).
// Samples `indices` of `source`, in that order, with their labels; an index out of range throws
// ge::Error naming it.
std::shared_ptr<Dataset> make_subset(std::shared_ptr<const Dataset> source,
                                     std::vector<int64_t> indices);
// A balanced labelled subset: `per_class` indices of every class of `source`, the first of each
// class in a shuffle drawn from `seed`, listed class by class. Throws ge::Error when `source` is
// unlabelled or a class has fewer than `per_class` samples.
std::vector<int64_t> balanced_indices(const Dataset& source, int64_t per_class, uint64_t seed);
// Samples held in memory: `samples` [N, ...] (any device; copied to the host) with float labels
// [N] in [0, num_classes) (undefined when num_classes is 0).
std::shared_ptr<Dataset> make_tensor_dataset(const Tensor& samples, const Tensor& labels,
                                             int64_t num_classes, std::string name);
// `a` followed by `b`; both must have one sample shape and class count.
std::shared_ptr<Dataset> make_concat(std::shared_ptr<const Dataset> a,
                                     std::shared_ptr<const Dataset> b);

// "mnist:DIR", "stacked-mnist:DIR", "images:DIR" (or "folder:DIR"), "ring8", "grid25" (or a bare
// DIR: MNIST IDX files if present there, else an image folder); "typeset" or "typeset:" (typeset
// digits, the train split, 60,000 samples, seed 0) and "typeset-test" (the held-out split, 10,000),
// each optionally naming the font directory after the colon ("typeset-test:DIR"). Every image data
// set takes the format's channels: gray sources repeat into 3, colour folders read as 1 become
// luma.
std::shared_ptr<Dataset> open_dataset(const std::string& spec, const ImageFormat& format);
// The image folder `spec` names: DIR for "images:DIR", "folder:DIR" or a directory without MNIST's
// IDX files; "" for any other spec.
std::string image_folder_of(const std::string& spec);
// What a super-resolution model trains on: an image folder spec ("images:DIR", "folder:DIR", a
// directory of images) gives make_photo_patches of its files, crops at the format's side; any
// other spec (MNIST, typeset digits) gives open_dataset's whole images at that side.
std::shared_ptr<Dataset> open_patch_dataset(const std::string& spec, const ImageFormat& format);

}  // namespace ge::models::data
