// ge::distributed in a build without MPI: a world of one process only.
#include "distributed/process_group.h"
#include "ganengine/error.h"

namespace ge::distributed::detail {

std::unique_ptr<ProcessGroup> make_mpi_group() {
  fail(
      "init_process_group: the launcher started several processes, but this build of ganengine "
      "has no MPI (configure with an MPI found, e.g. Debian's libopenmpi-dev, or -DGE_MPI=on)");
}

bool mpi_available() {
  return false;
}

}  // namespace ge::distributed::detail
