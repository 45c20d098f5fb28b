# The SDK: headers, the core library, the CLI, built-in plugins and a CMake package, so that
# find_package(Pipeline) + pipeline_add_plugin() builds a plugin out of tree.
include(CMakePackageConfigHelpers)

install(TARGETS pipeline_core pipeline_testing EXPORT PipelineTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY core/include/pipeline DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES "${CMAKE_BINARY_DIR}/generated/pipeline/version.hpp"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pipeline)
install(TARGETS pipeline EXPORT PipelineTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(PIPELINE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Pipeline)
install(EXPORT PipelineTargets NAMESPACE Pipeline:: DESTINATION ${PIPELINE_CMAKE_DIR})
configure_package_config_file(cmake/PipelineConfig.cmake.in
  "${CMAKE_BINARY_DIR}/PipelineConfig.cmake" INSTALL_DESTINATION ${PIPELINE_CMAKE_DIR})
write_basic_package_version_file("${CMAKE_BINARY_DIR}/PipelineConfigVersion.cmake"
  # Patch releases keep the plugin ABI; the build id names only major.minor, as this does.
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/PipelineConfig.cmake"
  "${CMAKE_BINARY_DIR}/PipelineConfigVersion.cmake"
  cmake/PipelinePlugin.cmake
  DESTINATION ${PIPELINE_CMAKE_DIR})
