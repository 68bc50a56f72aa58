# The shared store: RESP codec, command semantics, and the portbroker-store
# process driven by redis-cli and raw sockets.
portbroker_unit_test(resp_test SOURCES unit/resp_test.cc LIBS portbroker_ipc)
portbroker_unit_test(store_commands_test SOURCES unit/store_commands_test.cc LIBS portbroker_store_core)

add_test(NAME integration/store_standalone
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_standalone_test.py)
math(EXPR store_standalone_timeout "180 * ${PORTBROKER_TIMEOUT_SCALE}")
set_tests_properties(integration/store_standalone PROPERTIES
  TIMEOUT ${store_standalone_timeout} LABELS integration
  ENVIRONMENT "PORTBROKER_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1")
portbroker_unit_test(store_scopes_test SOURCES unit/store_scopes_test.cc LIBS portbroker_store_server)
# Starts the real portbroker-store, which StoreService looks for beside the
# running executable: a link to it sits beside the test.
portbroker_unit_test(store_service_test SOURCES unit/store_service_test.cc LIBS portbroker_supervisor)
add_dependencies(store_service_test portbroker-store)
add_custom_command(TARGET store_service_test POST_BUILD
  COMMAND ${CMAKE_COMMAND} -E create_symlink $<TARGET_FILE:portbroker-store>
          $<TARGET_FILE_DIR:store_service_test>/portbroker-store)
