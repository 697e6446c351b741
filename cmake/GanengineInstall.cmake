# Installs libganengine with an exported CMake package: find_package(ganengine).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS ganengine EXPORT ganengineTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY engine/include/ kernels/include/ models/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(GE_CUDA_MODE STREQUAL "emulator")
  install(DIRECTORY kernels/emu/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(EXPORT ganengineTargets NAMESPACE ganengine::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ganengine)
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/ganengineConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ganengineConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ganengine)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ganengineConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ganengineConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/ganengineConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ganengine)
