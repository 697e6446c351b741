#pragma once
// Access to the PyTorch golden files of tests/golden/ (written by scripts/make_goldens.py) and
// the comparison every golden test uses. tests/golden/README.md explains the tolerance model:
//   |actual - expected| <= ulps * eps * |expected| + slack * eps * sqrt(k) * rms(expected)
// with eps = 2^-23 and k the number of terms the op sums per element (1 for elementwise ops).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "ganengine/error.h"
#include "ganengine/safetensors.h"
#include "ganengine/tensor.h"

#ifndef GE_GOLDEN_DIR
#error "GE_GOLDEN_DIR must name tests/golden (tests/CMakeLists.txt defines it)"
#endif

namespace ge::golden {

// One case's parameters, from the metadata string "key=value key=value ...".
class Params {
 public:
  explicit Params(const std::string& text) {
    std::istringstream in(text);
    std::string item;
    while (in >> item) {
      const size_t eq = item.find('=');
      if (eq != std::string::npos) values_[item.substr(0, eq)] = item.substr(eq + 1);
    }
  }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::string& str(const std::string& key) const {
    const auto it = values_.find(key);
    if (it == values_.end()) fail("golden: case has no parameter '", key, "'");
    return it->second;
  }
  double num(const std::string& key) const { return std::stod(str(key)); }
  float f(const std::string& key) const { return static_cast<float>(num(key)); }
  int64_t i(const std::string& key) const { return std::stoll(str(key)); }
  bool flag(const std::string& key) const { return str(key) == "1"; }

 private:
  std::map<std::string, std::string> values_;
};

class File {
 public:
  // The file of one op family, read once per test binary.
  static const File& get(const std::string& family) {
    static std::map<std::string, File> cache;
    auto it = cache.find(family);
    if (it == cache.end()) it = cache.emplace(family, File(family)).first;
    return it->second;
  }

  std::vector<std::string> cases() const {
    std::vector<std::string> out;
    std::string text = meta_.at("cases") + ",";
    for (size_t start = 0, comma; (comma = text.find(',', start)) != std::string::npos;
         start = comma + 1)
      if (comma > start) out.push_back(text.substr(start, comma - start));
    return out;
  }
  Params params(const std::string& c) const { return Params(meta_.at(c)); }
  bool has(const std::string& c, const std::string& name) const {
    return tensors_.count(c + "/" + name) != 0;
  }
  // The stored CPU tensor.
  const Tensor& host(const std::string& c, const std::string& name) const {
    const auto it = tensors_.find(c + "/" + name);
    if (it == tensors_.end()) fail("golden: ", path_, " has no tensor '", c, "/", name, "'");
    return it->second;
  }
  // A fresh copy on `device` (a leaf requiring grad when asked).
  Tensor on(const std::string& c, const std::string& name, Device device,
            bool requires_grad = false) const {
    Tensor t = host(c, name).to(device).clone().detach();
    if (requires_grad) t.requires_grad_(true);
    return t;
  }

 private:
  explicit File(const std::string& family)
      : path_(std::string(GE_GOLDEN_DIR) + "/" + family + ".safetensors"),
        tensors_(load_safetensors(path_)),
        meta_(load_safetensors_metadata(path_)) {}

  std::string path_;
  std::map<std::string, Tensor> tensors_;
  std::map<std::string, std::string> meta_;
};

// Runs body(case, params) for every case of f that keep(case, params) accepts, each under a trace
// naming the case, and returns how many ran: the tests compare that with the number of cases
// scripts/make_goldens.py writes, so that a file that lost cases does not pass by testing none.
template <typename Keep, typename Body>
int for_each_case(const File& f, Keep&& keep, Body&& body) {
  int ran = 0;
  for (const std::string& c : f.cases()) {
    const Params p = f.params(c);
    if (!keep(c, p)) continue;
    SCOPED_TRACE("case " + c);
    ++ran;
    body(c, p);
  }
  return ran;
}

template <typename Body>
int for_each_case(const File& f, Body&& body) {
  return for_each_case(
      f, [](const std::string&, const Params&) { return true; }, std::forward<Body>(body));
}

struct Tol {
  double k = 1;      // terms summed per element
  double ulps = 4;   // relative part, in units of eps
  double slack = 8;  // the sqrt(k) random-walk bound is a typical size; this covers the tails
  double floor = 0;  // absolute tolerance at least this (see with_term_scale)
};

// For results that cancel (a second derivative that is almost zero, s(1 - s) at large |x|): the
// case records "<name>_term_scale", the size of the terms that cancel, and float32 can only get
// the difference to within eps times those, so the absolute tolerance is taken from that scale
// instead of from the (tiny) result.
inline Tol with_term_scale(const Params& p, const std::string& name, Tol tol) {
  const std::string key = name + "_term_scale";
  if (p.has(key))
    tol.floor = std::max(tol.floor, tol.slack * std::sqrt(tol.k) * p.num(key) / (1 << 23));
  return tol;
}

// Compares an engine result (any device) with a golden tensor elementwise under `tol`. Setting
// GE_GOLDEN_REPORT prints each comparison's worst error as a fraction of its tolerance.
inline ::testing::AssertionResult close(const std::string& what, const Tensor& actual,
                                        const Tensor& expected, const Tol& tol = {}) {
  if (!actual.defined()) return ::testing::AssertionFailure() << what << ": result undefined";
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << what << ": shape " << to_string(actual.shape())
                                         << ", expected " << to_string(expected.shape());
  const std::vector<float> a = actual.to_vector();
  const std::vector<float> e = expected.to_vector();
  double sq = 0;
  for (float v : e)
    sq += static_cast<double>(v) * v;
  const double rms = e.empty() ? 0 : std::sqrt(sq / static_cast<double>(e.size()));
  const double eps = 1.0 / (1 << 23);
  const double abs_tol = std::max(tol.floor, tol.slack * eps * std::sqrt(tol.k) * rms);
  double worst = 0;
  size_t worst_i = 0;
  for (size_t i = 0; i < e.size(); ++i) {
    const double err = std::abs(static_cast<double>(a[i]) - e[i]);
    const double bound = tol.ulps * eps * std::abs(e[i]) + abs_tol;
    const double ratio = bound > 0 ? err / bound : (err > 0 ? INFINITY : 0);
    if (!(ratio <= worst)) {  // also catches NaN
      worst = std::isnan(ratio) ? INFINITY : ratio;
      worst_i = i;
    }
  }
  if (std::getenv("GE_GOLDEN_REPORT"))
    std::printf("golden %-48s k=%-6g worst err/tol %.3f\n", what.c_str(), tol.k, worst);
  if (worst <= 1) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": element " << worst_i << " is " << a[worst_i] << ", expected " << e[worst_i]
         << " (error " << std::abs(static_cast<double>(a[worst_i]) - e[worst_i]) << " is " << worst
         << " x the tolerance; k=" << tol.k << ", rms " << rms << ")";
}

}  // namespace ge::golden
