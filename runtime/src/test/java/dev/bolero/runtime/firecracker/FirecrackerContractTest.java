package dev.bolero.runtime.firecracker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.internal.vmm.ApiRequest;
import dev.bolero.runtime.internal.vmm.ApiSpec;
import dev.bolero.runtime.internal.vmm.Specs;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every request the Firecracker driver can send conforms to Firecracker's published Swagger spec. */
class FirecrackerContractTest {

    private static final ApiSpec SPEC = ApiSpec.load("firecracker.yaml");
    private static final FirecrackerApi.VmmPaths PATHS = new FirecrackerApi.VmmPaths(
            "/var/lib/bolero/kernels/vmlinux", "/var/lib/bolero/kernels/initramfs", "/m/rootfs.raw",
            "/m/vsock.sock", "/m/logger.fifo", "/m/metrics.fifo", List.of("/v/a.ext4", "/v/b.ext4"));

    private static List<ApiRequest> everyRequest(VmSpec spec) {
        List<ApiRequest> all = new ArrayList<>(FirecrackerApi.boot(spec, PATHS));
        all.addAll(FirecrackerApi.politeStop());
        all.addAll(FirecrackerApi.save(SNAPSHOT));
        all.addAll(FirecrackerApi.load(PATHS, SNAPSHOT));
        return all;
    }

    private static final FirecrackerApi.SnapshotPaths SNAPSHOT =
            new FirecrackerApi.SnapshotPaths("/m/snapshot/vmstate", "/m/snapshot/memory");

    @Test
    void everyRequestForAMachineWithoutTapsConformsToTheSpec() {
        List<ApiRequest> requests = everyRequest(Specs.machine(List.of()));
        for (ApiRequest request : requests) assertThat(SPEC.violations(request)).as(request.describe()).isEmpty();
    }

    @Test
    void everyRequestForAMachineWithTapsConformsToTheSpec() {
        List<ApiRequest> requests = everyRequest(Specs.machine(Specs.TAPS));
        for (ApiRequest request : requests) assertThat(SPEC.violations(request)).as(request.describe()).isEmpty();
        assertThat(requests).extracting(ApiRequest::path)
                .contains("/network-interfaces/eth0", "/network-interfaces/eth1");
    }

    @Test
    void everyRequestForAMachineWithVolumesConformsToTheSpecAndAttachesThemReadWrite() {
        List<ApiRequest> requests = everyRequest(Specs.machineWithDrives(Specs.TAPS));
        for (ApiRequest request : requests) assertThat(SPEC.violations(request)).as(request.describe()).isEmpty();
        assertThat(requests).extracting(ApiRequest::describe).containsSubsequence("PUT /drives/root",
                "PUT /drives/vol_0123456789abcdef", "PUT /drives/vol_fedcba9876543210", "PUT /actions");
        assertThat(requests).extracting(r -> r.body().orElse(null)).contains(
                new FirecrackerApi.Drive("vol_fedcba9876543210", "/v/b.ext4", false, false));
    }

    @Test
    void theDriverUsesTheOperationsTheIssueNames() {
        Set<String> used = everyRequest(Specs.machine(Specs.TAPS)).stream()
                .map(ApiRequest::describe).collect(Collectors.toSet());
        assertThat(used).contains("PUT /logger", "PUT /metrics", "PUT /machine-config", "PUT /boot-source",
                "PUT /drives/root", "PUT /vsock", "PUT /actions", "PATCH /vm", "PUT /snapshot/create",
                "PUT /snapshot/load");
        assertThat(FirecrackerApi.politeStop().getLast().body().orElseThrow())
                .isEqualTo(new FirecrackerApi.InstanceActionInfo(FirecrackerApi.ActionType.SEND_CTRL_ALT_DEL));
    }

    @Test
    void aSuspendPausesAndWritesAFullSnapshotAndAResumeLoadsItAfterOnlyTheLoggerAndMetrics() {
        assertThat(FirecrackerApi.save(SNAPSHOT)).extracting(ApiRequest::describe)
                .containsExactly("PATCH /vm", "PUT /snapshot/create");
        tools.jackson.databind.JsonNode create = dev.bolero.runtime.internal.vmm.VmmApi.JSON.valueToTree(
                FirecrackerApi.save(SNAPSHOT).getLast().body().orElseThrow());
        assertThat(create.toString()).isEqualTo("{\"snapshot_path\":\"/m/snapshot/vmstate\","
                + "\"mem_file_path\":\"/m/snapshot/memory\",\"snapshot_type\":\"Full\"}");
        List<ApiRequest> load = FirecrackerApi.load(PATHS, SNAPSHOT);
        assertThat(load).extracting(ApiRequest::describe)
                .containsExactly("PUT /logger", "PUT /metrics", "PUT /snapshot/load");
        tools.jackson.databind.JsonNode body = dev.bolero.runtime.internal.vmm.VmmApi.JSON.valueToTree(
                load.getLast().body().orElseThrow());
        assertThat(body.path("mem_backend").path("backend_type").asString()).isEqualTo("File");
        assertThat(body.path("mem_backend").path("backend_path").asString()).isEqualTo("/m/snapshot/memory");
        assertThat(body.path("resume_vm").asBoolean()).isTrue();
    }

    @Test
    void aFieldTheSpecDoesNotHaveIsAViolation() {
        record DriveWithExtra(String driveId, String pathOnHost, boolean isRootDevice, boolean isReadOnly,
                boolean bogus) {}
        ApiRequest request = ApiRequest.put("/drives/root", new DriveWithExtra("root", "/x", false, false, true));
        assertThat(SPEC.violations(request)).singleElement().asString().contains("bogus");
    }

    @Test
    void aFieldOfTheWrongTypeIsAViolation() {
        record LooseMachineConfig(String vcpuCount, int memSizeMib) {}
        ApiRequest request = ApiRequest.put("/machine-config", new LooseMachineConfig("two", 256));
        assertThat(SPEC.violations(request)).singleElement().asString().contains("vcpu_count");
    }

    @Test
    void aMissingRequiredFieldIsAViolation() {
        record NoKernel(String bootArgs) {}
        assertThat(SPEC.violations(ApiRequest.put("/boot-source", new NoKernel("console=ttyS0"))))
                .singleElement().asString().contains("kernel_image_path");
    }

    @Test
    void anOperationTheSpecDoesNotHaveIsAViolation() {
        assertThat(SPEC.violations(ApiRequest.put("/machine-configuration", new FirecrackerApi.Metrics("/x"))))
                .singleElement().asString().contains("no such operation");
        assertThat(SPEC.violations(new ApiRequest("DELETE", "/drives/root", java.util.Optional.empty())))
                .singleElement().asString().contains("no such operation");
    }

    @Test
    void aRequiredBodyThatIsMissingIsAViolation() {
        assertThat(SPEC.violations(ApiRequest.put("/actions"))).singleElement().asString().contains("requires a body");
    }
}
