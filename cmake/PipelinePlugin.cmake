# pipeline_add_plugin(NAME SOURCES src... [LIBRARIES lib...])
#
# Builds a run-time plugin: a shared module named pipeline_<NAME>.so that links the core SDK.
# The same function serves the project's own plugins and third-party ones (installed with the
# Pipeline CMake package), so both are built the same way.
function(pipeline_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "pipeline_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE Pipeline::core ${ARG_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "pipeline_${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_features(${name} PRIVATE cxx_std_20)
  if(PIPELINE_PLUGIN_OUTPUT_DIR)
    # In the project's own tree: beside the CLI, where it looks for built-in plugins.
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PIPELINE_PLUGIN_OUTPUT_DIR}")
    target_compile_options(${name} PRIVATE ${PIPELINE_WARNINGS})
    install(TARGETS ${name} LIBRARY DESTINATION "${PIPELINE_PLUGIN_INSTALL_DIR}")
  endif()
endfunction()
