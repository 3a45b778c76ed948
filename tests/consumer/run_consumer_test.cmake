# ctest entry InstallConsumer.BuildsAgainstInstalledTree: installs the build tree GEOTPS_BUILD_DIR
# into WORK_DIR/prefix, configures and builds tests/consumer against it with find_package(GeoTPS),
# and runs the consumer. Usage: cmake -DGEOTPS_SOURCE_DIR=... -DGEOTPS_BUILD_DIR=... -DWORK_DIR=...
#   -P run_consumer_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run_step(${CMAKE_COMMAND} --install "${GEOTPS_BUILD_DIR}" --prefix "${prefix}")
foreach(f bin/geotps include/geotps/engine/pipelines/run.h include/geotps/geotps/version.h
          lib/cmake/GeoTPS/GeoTPSConfig.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "the install tree has no ${f}")
  endif()
endforeach()
# A LibTorch build installs its module where the installed binary finds it: training gets past
# loading it to the (unwritable) output path.
if(GEOTPS_WITH_TORCH)
  if(NOT EXISTS "${prefix}/lib/geotps/libgeotps_neural.so")
    message(FATAL_ERROR "the install tree has no lib/geotps/libgeotps_neural.so")
  endif()
  execute_process(COMMAND "${prefix}/bin/geotps" train-denoiser
                          "${GEOTPS_SOURCE_DIR}/tests/data/tiny_alanine.yaml" -q
                          --out /proc/geotps_no/model.pt
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT err MATCHES "/proc/geotps_no/model.pt" OR err MATCHES "could not be loaded")
    message(FATAL_ERROR "the installed geotps did not load its LibTorch module (${rc}):\n${err}")
  endif()
endif()
run_step(${CMAKE_COMMAND} -S "${GEOTPS_SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/build"
         -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run_step(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run_step("${WORK_DIR}/build/consumer")
file(REMOVE_RECURSE "${WORK_DIR}")
