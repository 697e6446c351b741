// Warp operations complete in the scheduler once every lane of the mask has arrived: the results
// are computed here from the values all lanes brought, so a lane that resumes first and races on
// to the next shuffle cannot change what its neighbours receive.
#include <algorithm>
#include <cstdio>

#include "block.h"

namespace ge::emu::detail {
namespace {

constexpr unsigned long long kInactiveLane = ~0ull;  // what a lane outside the mask "holds"

std::string hex(unsigned mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", mask);
  return text;
}

std::string where(const ThreadSlot& t) {
  return std::string(warp_op_name(t.op)) + "(mask " + hex(t.mask) + ") at " + t.where.file_name() +
         ":" + std::to_string(t.where.line());
}

bool valid_width(int width) {
  return width >= 1 && width <= 32 && (width & (width - 1)) == 0;
}

unsigned long long shuffle(const ThreadSlot* const* lanes, unsigned mask, unsigned lane,
                           const ThreadSlot& t) {
  const unsigned width = static_cast<unsigned>(t.width);
  const unsigned segment = lane & ~(width - 1);
  unsigned source = lane;
  switch (t.op) {
    case WarpOp::shfl_idx:
      source = segment + (static_cast<unsigned>(t.arg) & (width - 1));
      break;
    case WarpOp::shfl_up:
      if (lane - segment >= static_cast<unsigned>(t.arg)) source = lane - t.arg;
      break;
    case WarpOp::shfl_down:
      if (lane - segment + static_cast<unsigned>(t.arg) < width) source = lane + t.arg;
      break;
    case WarpOp::shfl_xor: {
      const unsigned target = lane ^ static_cast<unsigned>(t.arg);
      if (target < segment + width && target < 32) source = target;
      break;
    }
    default:
      break;
  }
  if (!(mask >> source & 1u)) return kInactiveLane;
  return lanes[source]->value;
}

}  // namespace

const char* warp_op_name(WarpOp op) {
  switch (op) {
    case WarpOp::sync:
      return "__syncwarp";
    case WarpOp::shfl_idx:
      return "__shfl_sync";
    case WarpOp::shfl_up:
      return "__shfl_up_sync";
    case WarpOp::shfl_down:
      return "__shfl_down_sync";
    case WarpOp::shfl_xor:
      return "__shfl_xor_sync";
    case WarpOp::ballot:
      return "__ballot_sync";
    case WarpOp::any:
      return "__any_sync";
    case WarpOp::all:
      return "__all_sync";
    case WarpOp::active:
      return "__activemask";
    case WarpOp::mma_tf32:
      return "mma.sync.m16n8k8.tf32";
    case WarpOp::mma_bf16:
      return "mma.sync.m16n8k16.bf16";
    case WarpOp::ldmatrix:
      return "ldmatrix.sync";
  }
  return "warp operation";
}

std::string release_warps(const BlockView& block, std::vector<unsigned>& released) {
  for (unsigned first = 0; first < block.count; first += 32) {
    const unsigned lanes_here = std::min(32u, block.count - first);
    ThreadSlot* const* lanes = block.threads + first;
    unsigned handled = 0;
    for (unsigned lane = 0; lane < lanes_here; ++lane) {
      const ThreadSlot& t = *lanes[lane];
      if (t.wait != Wait::warp || (handled >> lane & 1u)) continue;
      if (t.op == WarpOp::active) {
        unsigned group = 0;
        for (unsigned other = 0; other < lanes_here; ++other) {
          if (lanes[other]->wait == Wait::warp && lanes[other]->op == WarpOp::active) {
            group |= 1u << other;
          }
        }
        handled |= group;
        for (unsigned other = 0; other < lanes_here; ++other) {
          if (!(group >> other & 1u)) continue;
          lanes[other]->result = group;
          lanes[other]->wait = Wait::running;
          released.push_back(first + other);
        }
        continue;
      }
      if (!(t.mask >> lane & 1u)) {
        return "thread " + thread_name(t.tid) + " calls " + where(t) +
               " with a mask that does not include its own lane " + std::to_string(lane);
      }
      if (!valid_width(t.width)) {
        return "thread " + thread_name(t.tid) + " calls " + where(t) + " with width " +
               std::to_string(t.width) + " (must be a power of two up to 32)";
      }
      bool complete = true;
      for (unsigned other = 0; other < 32 && complete; ++other) {
        if (!(t.mask >> other & 1u)) continue;
        complete = other < lanes_here && lanes[other]->wait == Wait::warp &&
                   lanes[other]->op == t.op && lanes[other]->mask == t.mask &&
                   (!is_matrix_op(t.op) || lanes[other]->arg == t.arg);
      }
      if (!complete) continue;
      handled |= t.mask;
      if (is_matrix_op(t.op)) {
        std::string error = run_matrix_op(t.op, lanes);
        if (!error.empty())
          return "warp " + std::to_string(first / 32) + ": " + where(t) + ": " + error;
        for (unsigned other = 0; other < 32; ++other) {
          lanes[other]->result = 0;
          lanes[other]->wait = Wait::running;
          released.push_back(first + other);
        }
        continue;
      }
      unsigned votes = 0;
      for (unsigned other = 0; other < lanes_here; ++other) {
        if ((t.mask >> other & 1u) && lanes[other]->value != 0) votes |= 1u << other;
      }
      for (unsigned other = 0; other < lanes_here; ++other) {
        if (!(t.mask >> other & 1u)) continue;
        ThreadSlot& member = *lanes[other];
        switch (t.op) {
          case WarpOp::sync:
            member.result = 0;
            break;
          case WarpOp::ballot:
            member.result = votes;
            break;
          case WarpOp::any:
            member.result = votes != 0;
            break;
          case WarpOp::all:
            member.result = votes == t.mask;
            break;
          default:
            member.result = shuffle(lanes, t.mask, other, member);
            break;
        }
      }
      for (unsigned other = 0; other < lanes_here; ++other) {
        if (!(t.mask >> other & 1u)) continue;
        lanes[other]->wait = Wait::running;
        released.push_back(first + other);
      }
    }
  }
  std::sort(released.begin(), released.end());
  return {};
}

std::string describe_stuck_warps(const BlockView& block) {
  std::string text;
  for (unsigned first = 0; first < block.count; first += 32) {
    const unsigned lanes_here = std::min(32u, block.count - first);
    const ThreadSlot* const* lanes = block.threads + first;
    for (unsigned lane = 0; lane < lanes_here; ++lane) {
      const ThreadSlot& t = *lanes[lane];
      if (t.wait != Wait::warp) continue;
      for (unsigned other = 0; other < 32; ++other) {
        if (!(t.mask >> other & 1u)) continue;
        std::string problem;
        if (other >= lanes_here) {
          problem = "lane " + std::to_string(other) + " does not exist (block has " +
                    std::to_string(block.count) + " threads)";
        } else {
          const ThreadSlot& o = *lanes[other];
          if (o.wait == Wait::done) {
            problem = "lane " + std::to_string(other) + " " + thread_name(o.tid) + " has exited";
          } else if (o.wait == Wait::barrier) {
            problem = "lane " + std::to_string(other) + " " + thread_name(o.tid) +
                      " waits at __syncthreads() at " + o.file + ":" + std::to_string(o.line);
          } else if (o.op != t.op || o.mask != t.mask) {
            problem = "lane " + std::to_string(other) + " " + thread_name(o.tid) + " waits at " +
                      where(o);
          }
        }
        if (problem.empty()) continue;
        text = "warp " + std::to_string(first / 32) + " mismatch: lane " + std::to_string(lane) +
               " " + thread_name(t.tid) + " waits at " + where(t) + " but " + problem;
        return text;
      }
    }
  }
  return "deadlock at warp operations";
}

}  // namespace ge::emu::detail
