portbroker_integration_test(echo)
portbroker_integration_test(shared_store)
portbroker_integration_test(handlers_folder)
portbroker_integration_test(errors)
portbroker_integration_test(status_and_shutdown)
portbroker_integration_test(parity)
portbroker_integration_test(load)
portbroker_integration_test(screening)
portbroker_integration_test(firewall)
portbroker_integration_test(sandbox TIMEOUT 300)
portbroker_integration_test(reload TIMEOUT 300)
portbroker_integration_test(operator_tools)
portbroker_integration_test(packages TIMEOUT 900)
portbroker_integration_test(tls TIMEOUT 300)
portbroker_integration_test(hostile_worker)
portbroker_integration_test(folder_attacks)
portbroker_integration_test(resource_limits)
portbroker_integration_test(builtins_corpus)
portbroker_integration_test(prebuilt_stencils)
portbroker_integration_test(udp_abuse)
portbroker_integration_test(url_table)
portbroker_integration_test(tenants TIMEOUT 300)
portbroker_integration_test(store_redis TIMEOUT 240)
portbroker_integration_test(store_sentinel TIMEOUT 240)
portbroker_integration_test(egress)
portbroker_integration_test(proxy_protocol)
portbroker_integration_test(multi_host TIMEOUT 240)
portbroker_integration_test(floods TIMEOUT 600)
portbroker_integration_test(faults)

# A real systemd: Debian 12 booted in systemd-nspawn with this build's .deb
# installed (scripts/systemd-boot-test; docs/testing.md, "systemd boot").
# Root, network to the Debian mirror; the first run makes the cached root
# with debootstrap (4 min from nothing on a loaded 2-core machine, 1 min after).
# The script's own limit is below ctest's, so that it still ends its container.
add_test(NAME systemd/boot COMMAND ${PROJECT_SOURCE_DIR}/scripts/systemd-boot-test --timeout 780 ${CMAKE_BINARY_DIR})
set_tests_properties(systemd/boot PROPERTIES TIMEOUT 900 LABELS systemd SKIP_RETURN_CODE 77
  ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
