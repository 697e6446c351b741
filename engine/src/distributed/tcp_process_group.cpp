// ge::distributed's TCP backend, for processes started with torchrun's variables (RANK,
// WORLD_SIZE, MASTER_ADDR, MASTER_PORT, LOCAL_RANK) and no MPI launcher. Rank 0 listens on
// MASTER_ADDR:MASTER_PORT and every other rank connects to it; collectives go through rank 0
// (a star), which sums in rank order, so every rank gets the same bits as under MPI. Meant for
// bootstrapping NCCL and for small CPU runs: rank 0's link carries all the traffic.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "distributed/process_group.h"
#include "ganengine/error.h"

namespace ge::distributed::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Seconds a rank waits for the others to connect, or for a peer's data: GE_DIST_TIMEOUT.
int timeout_seconds() {
  const char* text = std::getenv("GE_DIST_TIMEOUT");
  const int value = text ? std::atoi(text) : 0;
  return value > 0 ? value : 300;
}

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Waits until `fd` is ready for `events`, or throws after the timeout naming `peer`.
void wait_for(int fd, short events, const std::string& peer) {
  pollfd p{fd, events, 0};
  const int ms = timeout_seconds() * 1000;
  int r = 0;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  GE_CHECK(r > 0, "ge::distributed (tcp): no data from ", peer, " within ", timeout_seconds(),
           " s (GE_DIST_TIMEOUT)");
}

void send_all(int fd, const void* data, size_t bytes, const std::string& peer) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    wait_for(fd, POLLOUT, peer);
    const ssize_t n = ::send(fd, p, bytes, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    GE_CHECK(n > 0, "ge::distributed (tcp): sending to ", peer, " failed (", std::strerror(errno),
             "): it exited or was killed");
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void recv_all(int fd, void* data, size_t bytes, const std::string& peer) {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    wait_for(fd, POLLIN, peer);
    const ssize_t n = ::recv(fd, p, bytes, 0);
    if (n < 0 && errno == EINTR) continue;
    GE_CHECK(n > 0, "ge::distributed (tcp): ", peer,
             " closed its connection: it exited or was killed");
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

sockaddr_in resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int r = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  GE_CHECK(r == 0 && found != nullptr, "init_process_group: cannot resolve MASTER_ADDR '", host,
           "' (", ::gai_strerror(r), ")");
  sockaddr_in addr = *reinterpret_cast<sockaddr_in*>(found->ai_addr);
  ::freeaddrinfo(found);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

void no_delay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

class TcpProcessGroup final : public ProcessGroup {
 public:
  TcpProcessGroup(const World& world, const std::string& host, int port) : world_(world) {
    const sockaddr_in addr = resolve(host, port);
    const std::string where = host + ":" + std::to_string(port);
    const int32_t hello[2] = {world_.rank, world_.size};
    if (world_.rank == 0) {
      Socket listener(::socket(AF_INET, SOCK_STREAM, 0));
      const int one = 1;
      ::setsockopt(listener.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      GE_CHECK(::bind(listener.fd(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0,
               "init_process_group: rank 0 cannot listen on MASTER_ADDR:MASTER_PORT ", where, " (",
               std::strerror(errno), ")");
      GE_CHECK(::listen(listener.fd(), world_.size) == 0, "init_process_group: listen on ", where,
               " failed (", std::strerror(errno), ")");
      peers_.resize(static_cast<size_t>(world_.size));
      for (int k = 1; k < world_.size; ++k) {
        wait_for(listener.fd(), POLLIN, "the other ranks' connections to " + where);
        Socket s(::accept(listener.fd(), nullptr, nullptr));
        GE_CHECK(s.fd() >= 0, "init_process_group: accept failed (", std::strerror(errno), ")");
        no_delay(s.fd());
        int32_t theirs[2];
        recv_all(s.fd(), theirs, sizeof theirs, "a connecting rank");
        GE_CHECK(theirs[1] == world_.size && theirs[0] > 0 && theirs[0] < world_.size &&
                     peers_[static_cast<size_t>(theirs[0])].fd() < 0,
                 "init_process_group: a process connected as rank ", theirs[0], " of ", theirs[1],
                 "; expected ranks 1 to ", world_.size - 1, " of ", world_.size, ", once each");
        peers_[static_cast<size_t>(theirs[0])] = std::move(s);
      }
    } else {
      const auto deadline = Clock::now() + std::chrono::seconds(timeout_seconds());
      for (;;) {
        Socket s(::socket(AF_INET, SOCK_STREAM, 0));
        if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
          no_delay(s.fd());
          master_ = std::move(s);
          break;
        }
        GE_CHECK(Clock::now() < deadline, "init_process_group: rank ", world_.rank,
                 " could not reach rank 0 at ", where, " within ", timeout_seconds(),
                 " s (GE_DIST_TIMEOUT)");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      send_all(master_.fd(), hello, sizeof hello, "rank 0");
    }
  }

  std::string backend() const override { return "tcp"; }
  World world() const override { return world_; }

  void all_reduce_sum(float* data, int64_t count) override {
    const size_t bytes = static_cast<size_t>(count) * sizeof(float);
    if (world_.rank != 0) {
      send_all(master_.fd(), data, bytes, "rank 0");
      recv_all(master_.fd(), data, bytes, "rank 0");
      return;
    }
    std::vector<float> part(static_cast<size_t>(count));
    for (int r = 1; r < world_.size; ++r) {
      recv_all(peer(r), part.data(), bytes, rank_name(r));
      for (int64_t i = 0; i < count; ++i)
        data[i] += part[static_cast<size_t>(i)];
    }
    for (int r = 1; r < world_.size; ++r)
      send_all(peer(r), data, bytes, rank_name(r));
  }

  void broadcast(float* data, int64_t count, int src) override {
    broadcast_bytes(data, count * static_cast<int64_t>(sizeof(float)), src);
  }

  void broadcast_bytes(void* data, int64_t bytes, int src) override {
    const auto n = static_cast<size_t>(bytes);
    if (world_.rank != 0) {
      if (world_.rank == src) {
        send_all(master_.fd(), data, n, "rank 0");
      } else {
        recv_all(master_.fd(), data, n, "rank 0");
      }
      return;
    }
    if (src != 0) recv_all(peer(src), data, n, rank_name(src));
    for (int r = 1; r < world_.size; ++r)
      if (r != src) send_all(peer(r), data, n, rank_name(r));
  }

  void all_gather(const float* in, float* out, int64_t count) override {
    const size_t bytes = static_cast<size_t>(count) * sizeof(float);
    gather_bytes(in, out, bytes);
  }

  std::vector<int64_t> all_gather_int(int64_t value) override {
    std::vector<int64_t> all(static_cast<size_t>(world_.size));
    gather_bytes(&value, all.data(), sizeof value);
    return all;
  }

  void barrier() override { (void)all_gather_int(0); }

 private:
  int peer(int rank) const { return peers_[static_cast<size_t>(rank)].fd(); }
  static std::string rank_name(int rank) { return "rank " + std::to_string(rank); }

  // Every rank's `bytes` at `in` into `out`, in rank order, on every rank.
  void gather_bytes(const void* in, void* out, size_t bytes) {
    char* o = static_cast<char*>(out);
    const size_t total = bytes * static_cast<size_t>(world_.size);
    if (world_.rank != 0) {
      send_all(master_.fd(), in, bytes, "rank 0");
      recv_all(master_.fd(), o, total, "rank 0");
      return;
    }
    std::memmove(o, in, bytes);
    for (int r = 1; r < world_.size; ++r)
      recv_all(peer(r), o + bytes * static_cast<size_t>(r), bytes, rank_name(r));
    for (int r = 1; r < world_.size; ++r)
      send_all(peer(r), o, total, rank_name(r));
  }

  World world_;
  Socket master_;              // ranks > 0: the connection to rank 0
  std::vector<Socket> peers_;  // rank 0: the connection to each other rank
};

}  // namespace

std::unique_ptr<ProcessGroup> make_tcp_group(const World& world, const std::string& host,
                                             int port) {
  return std::make_unique<TcpProcessGroup>(world, host, port);
}

}  // namespace ge::distributed::detail
