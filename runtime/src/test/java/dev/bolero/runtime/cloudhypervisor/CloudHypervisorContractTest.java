package dev.bolero.runtime.cloudhypervisor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.internal.vmm.ApiRequest;
import dev.bolero.runtime.internal.vmm.ApiSpec;
import dev.bolero.runtime.internal.vmm.Specs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import dev.bolero.runtime.internal.vmm.VmmApi;

/** Every request the Cloud Hypervisor driver can send conforms to Cloud Hypervisor's published OpenAPI spec. */
class CloudHypervisorContractTest {

    private static final ApiSpec SPEC = ApiSpec.load("cloud-hypervisor.yaml");
    private static final CloudHypervisorApi.VmmPaths PATHS = new CloudHypervisorApi.VmmPaths(
            "/vmlinux", "/initramfs", "/m/rootfs.raw", "/m/vsock.sock", "/m/console.log",
            List.of("/v/a.ext4", "/v/b.ext4"));

    private static List<ApiRequest> everyRequest(VmSpec spec) {
        List<ApiRequest> all = new ArrayList<>(CloudHypervisorApi.boot(spec, PATHS));
        all.addAll(CloudHypervisorApi.politeStop());
        all.addAll(CloudHypervisorApi.forcefulStop());
        all.addAll(CloudHypervisorApi.save("/m/snapshot"));
        all.addAll(CloudHypervisorApi.load("/m/snapshot"));
        return all;
    }

    @Test
    void everyRequestForAMachineWithoutTapsConformsToTheSpec() {
        for (ApiRequest request : everyRequest(Specs.machine(List.of()))) {
            assertThat(SPEC.violations(request)).as(request.describe()).isEmpty();
        }
    }

    @Test
    void everyRequestForAMachineWithTapsConformsToTheSpec() {
        for (ApiRequest request : everyRequest(Specs.machine(Specs.TAPS))) {
            assertThat(SPEC.violations(request)).as(request.describe()).isEmpty();
        }
    }

    @Test
    void volumesAreDisksAfterTheRootCarryingTheirSerialAndConformToTheSpec() {
        for (ApiRequest request : everyRequest(Specs.machineWithDrives(Specs.TAPS))) {
            assertThat(SPEC.violations(request)).as(request.describe()).isEmpty();
        }
        JsonNode disks = VmmApi.JSON.valueToTree(CloudHypervisorApi.boot(Specs.machineWithDrives(List.of()), PATHS)
                .getFirst().body().orElseThrow()).get("disks");
        assertThat(disks).hasSize(3);
        assertThat(disks.get(0).has("serial")).as("the root drive has none").isFalse();
        assertThat(disks.get(2).get("path").asString()).isEqualTo("/v/b.ext4");
        assertThat(disks.get(2).get("serial").asString()).isEqualTo("vol_fedcba9876543210");
        assertThat(disks.get(2).get("readonly").asBoolean()).isFalse();
    }

    @Test
    void theDriverUsesTheOperationsTheIssueNames() {
        assertThat(everyRequest(Specs.machine(List.of()))).extracting(ApiRequest::describe).containsExactly(
                "PUT /vm.create", "PUT /vm.boot", "PUT /vm.power-button", "PUT /vm.shutdown", "PUT /vmm.shutdown",
                "PUT /vm.pause", "PUT /vm.snapshot", "PUT /vm.restore", "PUT /vm.resume");
    }

    @Test
    void aSnapshotIsADirectoryUrlThatARestoreReadsBack() {
        JsonNode snapshot = VmmApi.JSON.valueToTree(CloudHypervisorApi.save("/m/snapshot").getLast().body().orElseThrow());
        assertThat(snapshot.path("destination_url").asString()).isEqualTo("file:///m/snapshot");
        JsonNode restore = VmmApi.JSON.valueToTree(CloudHypervisorApi.load("/m/snapshot").getFirst().body().orElseThrow());
        assertThat(restore.path("source_url").asString()).isEqualTo("file:///m/snapshot");
        assertThat(restore.path("prefault").asBoolean()).isFalse();
    }

    @Test
    void vmCreateCarriesTheWholeMachine() {
        JsonNode body = VmmApi.JSON.valueToTree(
                CloudHypervisorApi.boot(Specs.machine(Specs.TAPS), PATHS).getFirst().body().orElseThrow());
        assertThat(body.get("memory").get("size").asLong()).isEqualTo(256L << 20);
        assertThat(body.get("cpus").get("boot_vcpus").asInt()).isEqualTo(2);
        assertThat(body.get("net")).hasSize(2);
        assertThat(body.get("net").get(1).get("tap").asString()).isEqualTo("bt0a1b2c4");
        assertThat(body.get("serial").get("mode").asString()).isEqualTo("File");
        assertThat(body.get("console").has("file")).isFalse();
        assertThat(body.get("vsock").get("socket").asString()).isEqualTo("/m/vsock.sock");
        assertThat(body.get("payload").get("cmdline").asString()).startsWith("quiet mitigations=off console=ttyS0");
    }

    @Test
    void aFieldTheSpecDoesNotHaveIsAViolationEvenDeepInside() {
        record Cpus(int bootVcpus, int maxVcpus, boolean turbo) {}
        record Payload(String kernel) {}
        record Config(Cpus cpus, Payload payload) {}
        assertThat(SPEC.violations(ApiRequest.put("/vm.create", new Config(new Cpus(1, 1, true), new Payload("/k")))))
                .singleElement().asString().contains("turbo");
    }

    @Test
    void aFieldOfTheWrongTypeIsAViolation() {
        record Memory(String size) {}
        record Payload(String kernel) {}
        record Config(Memory memory, Payload payload) {}
        assertThat(SPEC.violations(ApiRequest.put("/vm.create", new Config(new Memory("256M"), new Payload("/k")))))
                .singleElement().asString().contains("size");
    }

    @Test
    void aBodyWhereTheSpecTakesNoneIsAViolation() {
        record Nothing(boolean now) {}
        assertThat(SPEC.violations(ApiRequest.put("/vm.boot", new Nothing(true))))
                .singleElement().asString().contains("takes no body");
    }
}
