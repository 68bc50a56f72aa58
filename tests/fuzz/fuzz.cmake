# One fuzz target per parser of untrusted or operator input:
# tests/fuzz/<target>.cc defines LLVMFuzzerTestOneInput, and
# tests/fuzz/corpus/<target>/ holds its seeds.
#
# With PORTBROKER_FUZZ=ON (clang; scripts/fuzz sets it up) each target is a
# libFuzzer binary, and everything it links is instrumented. Otherwise each
# links replay_main.cc, and ctest replays its corpus as a regression test.
function(portbroker_fuzz_target name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  if(PORTBROKER_FUZZ)
    add_executable(fuzz_${name} fuzz/${name}.cc)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_${name} fuzz/${name}.cc fuzz/replay_main.cc)
    add_test(NAME fuzz/${name} COMMAND fuzz_${name} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
    set_tests_properties(fuzz/${name} PROPERTIES TIMEOUT 120 LABELS unit)
  endif()
  set_target_properties(fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  target_include_directories(fuzz_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(fuzz_${name} PRIVATE portbroker_warnings ${ARG_LIBS})
endfunction()

portbroker_fuzz_target(handler_filename LIBS portbroker_policy)
portbroker_fuzz_target(ipc_messages LIBS portbroker_ipc)
portbroker_fuzz_target(manifest LIBS portbroker_policy)
portbroker_fuzz_target(cidr LIBS portbroker_policy)
portbroker_fuzz_target(broker_config LIBS portbroker_policy)
portbroker_fuzz_target(resp_request LIBS portbroker_ipc)
portbroker_fuzz_target(resp_value LIBS portbroker_ipc)
portbroker_fuzz_target(store_glob LIBS portbroker_store_core)
portbroker_fuzz_target(store_commands LIBS portbroker_store_core)
portbroker_fuzz_target(idna LIBS portbroker_worker_idna)
portbroker_fuzz_target(store_scopes LIBS portbroker_store_core)
portbroker_fuzz_target(store_backend LIBS portbroker_policy)
portbroker_fuzz_target(sentinel_replies LIBS portbroker_store_relay_core portbroker_policy)
portbroker_fuzz_target(relay_commands LIBS portbroker_store_relay_core)
portbroker_fuzz_target(egress_rules LIBS portbroker_policy)
portbroker_fuzz_target(proxy_header LIBS portbroker_policy)
portbroker_fuzz_target(zlib_inflate LIBS portbroker_zlib_engine)
