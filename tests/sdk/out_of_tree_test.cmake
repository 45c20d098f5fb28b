# Installs the SDK into a temporary prefix, builds docs/example-plugin against it with
# find_package(Pipeline), follows the plugin guide's testing section step by step (check-plugin,
# then the plugin's own testkit-based test through ctest), and runs a pipeline that uses the
# plugin with the installed CLI.
# Arguments: SOURCE_DIR, BUILD_DIR, WORK_DIR, CXX_COMPILER, SANITIZE.
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
foreach(f bin/pipeline include/pipeline/sdk.hpp include/pipeline/version.hpp include/pipeline/testing.hpp
          lib/cmake/Pipeline/PipelineConfig.cmake lib/pipeline/plugins/pipeline_data.so lib/libpipeline_testing.so)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "the install lacks ${f}")
  endif()
endforeach()

# Built with the compiler the SDK was built with; under the sanitizers, with them too (an
# instrumented SDK links only into instrumented executables).
set(toolchain -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
if(SANITIZE)
  list(APPEND toolchain "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined"
       "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" "-DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined"
       "-DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/docs/example-plugin" -B "${WORK_DIR}/build"
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release ${toolchain})
step(${CMAKE_COMMAND} --build "${WORK_DIR}/build")

# The guide's testing section, step 1: the conformance checks from the command line.
step("${prefix}/bin/pipeline" check-plugin "${WORK_DIR}/build/pipeline_binarize.so")
if(NOT last_out MATCHES "PASS layer softsign" OR NOT last_out MATCHES "PASS stage binarize" OR
   NOT last_out MATCHES "2 passed, 0 failed")
  message(FATAL_ERROR "check-plugin printed:\n${last_out}")
endif()
# Step 2: the plugin's own test on the installed testkit, through ctest.
step(${CMAKE_CTEST_COMMAND} --test-dir "${WORK_DIR}/build" --output-on-failure --no-tests=error)
if(NOT last_out MATCHES "100% tests passed, 0 tests failed out of 2")
  message(FATAL_ERROR "the example's tests printed:\n${last_out}")
endif()

step("${prefix}/bin/pipeline" --plugin-path "${WORK_DIR}/build" inspect binarize)
if(NOT last_out MATCHES "threshold +float +default 0.5")
  message(FATAL_ERROR "inspect binarize printed:\n${last_out}")
endif()

step("${prefix}/bin/pipeline" --plugin-path "${WORK_DIR}/build" run
     "${SOURCE_DIR}/docs/example-plugin/binarize.yaml" --runs-dir "${WORK_DIR}/runs" --no-cache)
if(NOT last_err MATCHES "binarized 150 samples")
  message(FATAL_ERROR "the plugin did not run:\n${last_err}")
endif()
file(GLOB_RECURSE metrics "${WORK_DIR}/runs/*/metrics.json")
file(READ "${metrics}" text)
if(NOT text MATCHES "\"fraction_on\": 0\\.[0-9]+")
  message(FATAL_ERROR "no fraction_on metric:\n${text}")
endif()
# The plugin's softsign layer trained a classifier well above chance (0.1) on binarized images.
if(NOT text MATCHES "\"accuracy\": 0\\.([4-9]|[3][5-9])")
  message(FATAL_ERROR "the softsign classifier did not learn:\n${text}")
endif()
message(STATUS "out-of-tree plugin built with find_package(Pipeline) and ran")
