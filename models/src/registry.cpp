// make_gan: options.arch -> architecture, after the checks every architecture relies on.
#include <string>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/models/cgan.h"
#include "ganengine/models/dcgan.h"
#include "ganengine/models/gan.h"
#include "ganengine/models/mlp_gan.h"
#include "ganengine/models/sngan.h"
#include "ganengine/models/wgan_gp.h"
#include "ganengine/models/stylegan_lite.h"

namespace ge::models {

namespace {

const std::vector<std::string> kImageArchs = {"dcgan", "cgan", "wgan-gp", "sngan", "stylegan-lite"};
const std::vector<std::string> kPointArchs = {"gan-mlp", "dcgan-mlp", "wgan-gp-mlp", "sngan-mlp"};

bool contains(const std::vector<std::string>& list, const std::string& s) {
  for (const std::string& x : list)
    if (x == s) return true;
  return false;
}

std::string accepted_archs() {
  std::string out;
  for (const auto* list : {&kImageArchs, &kPointArchs})
    for (const std::string& a : *list)
      out += (out.empty() ? "" : ", ") + a;
  return out;
}

bool power_of_two(int64_t v) {
  return v > 0 && (v & (v - 1)) == 0;
}

void check_options(const GanOptions& o) {
  const std::string& arch = o.arch;
  GE_CHECK(contains(kImageArchs, arch) || contains(kPointArchs, arch), "make_gan: unknown arch \"",
           arch, "\"; expected one of ", accepted_archs());
  GE_CHECK(o.latent_dim > 0, "make_gan: expected latent_dim > 0, got ", o.latent_dim);
  GE_CHECK(o.width > 0, "make_gan: expected width > 0, got ", o.width);
  GE_CHECK(o.num_classes >= 0, "make_gan: expected num_classes >= 0, got ", o.num_classes);
  if (contains(kImageArchs, arch)) {
    GE_CHECK(o.channels > 0, "make_gan: arch ", arch, " makes images and needs channels > 0, got ",
             o.channels, " (2-D points: gan-mlp, dcgan-mlp, wgan-gp-mlp, sngan-mlp)");
    GE_CHECK(power_of_two(o.resolution) && o.resolution >= 8, "make_gan: resolution ", o.resolution,
             " is not accepted by ", arch, "; expected a power of two >= 8 (pad 28x28 data to 32)");
  } else {
    GE_CHECK(o.channels == 0, "make_gan: arch ", arch,
             " models 2-D points and needs channels 0, got ", o.channels);
  }
  if (arch == "cgan") {
    GE_CHECK(o.num_classes > 0,
             "make_gan: arch cgan is class-conditional and needs num_classes > 0, got ",
             o.num_classes);
  } else if (arch != "stylegan-lite") {
    GE_CHECK(o.num_classes == 0, "make_gan: arch ", arch,
             " is unconditional; expected num_classes 0, got ", o.num_classes,
             " (use arch cgan for a class-conditional model)");
  }
  if (arch == "wgan-gp" || arch == "wgan-gp-mlp")
    GE_CHECK(o.gp_lambda >= 0.f, "make_gan: expected gp_lambda >= 0, got ", o.gp_lambda);
  GE_CHECK(o.pack == 1 || arch == "stylegan-lite", "make_gan: arch ", arch,
           " judges one sample at a time; expected pack 1, got ", o.pack,
           " (packing is a stylegan-lite option)");
}

}  // namespace

std::unique_ptr<Gan> make_gan(const GanOptions& options, Generator& generator) {
  check_options(options);
  const std::string& arch = options.arch;
  if (arch == "dcgan") return std::make_unique<Dcgan>(options, generator);
  if (arch == "cgan") return std::make_unique<Cgan>(options, generator);
  if (arch == "wgan-gp") return std::make_unique<WganGp>(options, generator);
  if (arch == "sngan") return std::make_unique<Sngan>(options, generator);
  if (arch == "stylegan-lite") return make_stylegan_lite(options, generator);
  return std::make_unique<MlpGan>(options, generator);
}

}  // namespace ge::models
