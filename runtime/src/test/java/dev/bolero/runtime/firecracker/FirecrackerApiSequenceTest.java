package dev.bolero.runtime.firecracker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.internal.vmm.ApiRequest;
import dev.bolero.runtime.internal.vmm.Specs;
import dev.bolero.runtime.internal.vmm.StandInVmm;
import dev.bolero.runtime.internal.vmm.VmmApi;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver's HTTP calls against an in-process stand-in for Firecracker's API on a Unix socket. This tests the
 * plumbing (methods, paths, JSON bodies, error mapping), not Firecracker: the contract test and the real-binary test
 * do that.
 */
class FirecrackerApiSequenceTest {

    @TempDir Path dir;

    private static final FirecrackerApi.VmmPaths PATHS = new FirecrackerApi.VmmPaths(
            "/k/vmlinux", "/k/initramfs", "/m/rootfs.raw", "/m/vsock.sock", "/m/logger.fifo", "/m/metrics.fifo",
            List.of());

    @Test
    void theBootSequenceArrivesInOrderWithSnakeCaseBodies() throws Exception {
        Path socket = dir.resolve("api.sock");
        try (StandInVmm vmm = new StandInVmm(socket, Map.of())) {
            VmmApi api = new VmmApi("firecracker", socket, "");
            for (ApiRequest request : FirecrackerApi.boot(Specs.machine(Specs.TAPS.subList(0, 1)), PATHS)) {
                api.send(request);
            }
            assertThat(vmm.received()).extracting(StandInVmm.Received::request).containsExactly(
                    "PUT /logger", "PUT /metrics", "PUT /machine-config", "PUT /boot-source", "PUT /drives/root",
                    "PUT /network-interfaces/eth0", "PUT /vsock", "PUT /actions");
            assertThat(vmm.received().get(2).body()).isEqualTo("{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":false}");
            assertThat(vmm.received().get(5).body()).isEqualTo(
                    "{\"iface_id\":\"eth0\",\"host_dev_name\":\"bt0a1b2c3\",\"guest_mac\":\"02:42:0a:d2:00:05\"}");
            assertThat(vmm.received().getLast().body()).isEqualTo("{\"action_type\":\"InstanceStart\"}");
        }
    }

    @Test
    void aFaultMessageSurfacesNamingTheRequest() throws Exception {
        Path socket = dir.resolve("api.sock");
        String fault = "{\"fault_message\":\"The kernel file cannot be opened: No such file or directory (os error 2)\"}";
        try (StandInVmm vmm = new StandInVmm(socket, Map.of("PUT /boot-source", new StandInVmm.Answer(400, fault)))) {
            VmmApi api = new VmmApi("firecracker", socket, "");
            List<ApiRequest> boot = FirecrackerApi.boot(Specs.machine(List.of()), PATHS);
            assertThatThrownBy(() -> {
                        for (ApiRequest request : boot) api.send(request);
                    })
                    .isInstanceOf(VmmException.class)
                    .hasMessage("firecracker PUT /boot-source: The kernel file cannot be opened: No such file or"
                            + " directory (os error 2) (HTTP 400)");
            assertThat(vmm.received()).extracting(StandInVmm.Received::request).endsWith("PUT /boot-source");
        }
    }

    @Test
    void anUnreachableSocketFailsNamingTheRequest() {
        VmmApi api = new VmmApi("firecracker", dir.resolve("nobody.sock"), "");
        assertThatThrownBy(() -> api.send(FirecrackerApi.politeStop().getFirst()))
                .isInstanceOf(VmmException.class)
                .hasMessageStartingWith("firecracker PUT /actions: ");
    }
}
