# The shared store: RESP codec, command semantics, and the portbroker-store
# process driven by redis-cli and raw sockets.
portbroker_unit_test(resp_test SOURCES unit/resp_test.cc LIBS portbroker_ipc)
portbroker_unit_test(store_commands_test SOURCES unit/store_commands_test.cc LIBS portbroker_store_core)
