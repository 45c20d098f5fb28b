# Installs the SDK into a temporary prefix, builds docs/example-plugin against it with
# find_package(Pipeline), and runs a pipeline that uses the plugin with the installed CLI.
# Arguments: SOURCE_DIR, BUILD_DIR, WORK_DIR.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
  set(last_err "${err}" PARENT_SCOPE)
endfunction()

step(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f bin/pipeline include/pipeline/sdk.hpp include/pipeline/version.hpp
          lib/cmake/Pipeline/PipelineConfig.cmake lib/pipeline/plugins/pipeline_data.so)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "the install lacks ${f}")
  endif()
endforeach()

step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/docs/example-plugin" -B "${WORK_DIR}/build"
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build "${WORK_DIR}/build")

step("${prefix}/bin/pipeline" --plugin-path "${WORK_DIR}/build" inspect binarize)
if(NOT last_out MATCHES "threshold +float +default 0.5")
  message(FATAL_ERROR "inspect binarize printed:\n${last_out}")
endif()

step("${prefix}/bin/pipeline" --plugin-path "${WORK_DIR}/build" run
     "${SOURCE_DIR}/docs/example-plugin/binarize.yaml" --runs-dir "${WORK_DIR}/runs" --no-cache)
if(NOT last_err MATCHES "binarized 200 samples")
  message(FATAL_ERROR "the plugin did not run:\n${last_err}")
endif()
file(GLOB_RECURSE metrics "${WORK_DIR}/runs/*/metrics.json")
file(READ "${metrics}" text)
if(NOT text MATCHES "\"fraction_on\": 0\\.[0-9]+")
  message(FATAL_ERROR "no fraction_on metric:\n${text}")
endif()
message(STATUS "out-of-tree plugin built with find_package(Pipeline) and ran")
