#pragma once
// `gan eval` for image-to-image models (CycleGAN): how well a translation keeps what an image
// shows and how closely it lands on the other domain, read by the MNIST classifier, and how
// faithfully each domain survives a round trip.
#include <functional>
#include <string>

#include "ganengine/device.h"
#include "ganengine/models/cyclegan.h"
#include "ganengine/models/data/dataset.h"
#include "ganengine/models/metrics/evaluate.h"
#include "ganengine/tensor.h"

namespace ge::models::metrics {

// x [N, C, R, R] in [-1, 1] -> its translation, the same shape: a2b true maps domain A to B,
// false B to A.
using Translator = std::function<Tensor(const Tensor& x, bool a2b)>;

// The report of a translator between the domains `data_a` and `data_b` (specs as the trainer's
// --data-a / --data-b take them), read in `format` on `device`. Every set is held out from
// training: "typeset[:FONTDIR]" is read as "typeset-test[:FONTDIR]", "mnist:DIR" (or an MNIST
// DIR) as its test split, any other spec as its own images. The first options.num_samples images
// of each (fewer where a set is smaller) go through in batches of options.batch, without autograd:
//   cycle_l1_A / cycle_l1_B    mean |G_BA(G_AB(a)) - a| over the A images and
//                              mean |G_AB(G_BA(b)) - b| over the B images, per pixel, in [-1, 1]
//   cycle_samples_A / _B       the images each averages over
// When one domain is typeset digits and the other MNIST (either way round) and the format is the
// classifier's (1 x 32 x 32), the typeset digits are translated into the MNIST domain
// (label_direction "a2b" or "b2a") and the classifier in options.classifier_dir reads them:
//   label_preservation         its accuracy on the translated digits against their true labels
//   label_preservation_baseline  its accuracy on the same digits untranslated
//   frechet_distance           classifier-feature Frechet distance of the translated digits to
//                              every MNIST test image
//   frechet_distance_baseline  the same for the untranslated digits
//   label_samples, mnist_test_samples, classifier_test_accuracy
// Otherwise these keys are absent and "classifier_metrics" says why. The report also names
// data_a, data_b and the held-out sets read (eval_data_a, eval_data_b). Returns pretty-printed
// JSON; throws ge::Error for a translator whose output differs in shape from its input.
std::string evaluate_translation(const Translator& translate, const data::ImageFormat& format,
                                 Device device, const std::string& data_a,
                                 const std::string& data_b, const EvalOptions& options);

// evaluate_translation of model.translate with every network in eval mode; the report adds
// "arch". Empty data specs are an error naming the missing domain.
std::string evaluate_cyclegan(CycleGan& model, const std::string& data_a, const std::string& data_b,
                              const EvalOptions& options);

}  // namespace ge::models::metrics
