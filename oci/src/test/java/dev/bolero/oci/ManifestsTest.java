package dev.bolero.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.core.Digest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ManifestsTest {
    static final String CONFIG = "sha256:" + "c".repeat(64);
    static final String LAYER = "sha256:" + "1".repeat(64);
    static final String AMD64 = "sha256:" + "a".repeat(64);
    static final String ARM64 = "sha256:" + "b".repeat(64);
    static final String ATTESTATION = "sha256:" + "d".repeat(64);

    static String imageManifest(String mediaType, String configType, String layerType) {
        return """
                {"schemaVersion": 2, %s
                 "config": {"mediaType": "%s", "digest": "%s", "size": 10},
                 "layers": [{"mediaType": "%s", "digest": "%s", "size": 20}]}
                """.formatted(mediaType == null ? "" : "\"mediaType\": \"" + mediaType + "\",", configType, CONFIG, layerType, LAYER);
    }

    static String index(String mediaType, String... entries) {
        return "{\"schemaVersion\": 2, \"mediaType\": \"" + mediaType + "\", \"manifests\": [" + String.join(",", entries) + "]}";
    }

    static String entry(String digest, String os, String arch, String variant) {
        return """
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "%s", "size": 500,
                 "platform": {"os": "%s", "architecture": "%s"%s}}""".formatted(digest, os, arch,
                variant.isEmpty() ? "" : ", \"variant\": \"" + variant + "\"");
    }

    private static Manifests.Manifest parse(String json, String contentType) throws PullException {
        return Manifests.parse(json.getBytes(StandardCharsets.UTF_8), contentType);
    }

    @Test
    void parsesOciAndDockerImageManifests() throws PullException {
        var oci = parse(imageManifest(Manifests.OCI_MANIFEST, "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar+zstd"), "");
        var docker = parse(imageManifest(Manifests.DOCKER_MANIFEST, "application/vnd.docker.container.image.v1+json",
                "application/vnd.docker.image.rootfs.diff.tar.gzip"), "");
        var noMediaType = parse(imageManifest(null, "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar"), Manifests.OCI_MANIFEST);

        for (var manifest : List.of(oci, docker, noMediaType)) {
            assertThat(manifest).isInstanceOfSatisfying(Manifests.ImageManifest.class, m -> {
                assertThat(m.config().digest()).isEqualTo(Digest.parse(CONFIG));
                assertThat(m.layers()).extracting(Manifests.Descriptor::digest).containsExactly(Digest.parse(LAYER));
                assertThat(m.layers().getFirst().size()).isEqualTo(20);
            });
        }
    }

    @Test
    void selectsLinuxAmd64FromAMultiPlatformIndexSkippingAttestations() throws PullException {
        for (String type : List.of(Manifests.OCI_INDEX, Manifests.DOCKER_LIST)) {
            var manifest = parse(index(type, entry(ARM64, "linux", "arm64", "v8"), entry(ATTESTATION, "unknown", "unknown", ""),
                    entry(AMD64, "linux", "amd64", "")), "");
            assertThat(manifest).isInstanceOf(Manifests.Index.class);
            assertThat(Manifests.selectLinuxAmd64((Manifests.Index) manifest).digest()).isEqualTo(Digest.parse(AMD64));
        }
    }

    @Test
    void prefersTheBaselineAmd64VariantOverOthers() throws PullException {
        var index = (Manifests.Index) parse(index(Manifests.OCI_INDEX, entry(ARM64, "linux", "amd64", "v3"),
                entry(AMD64, "linux", "amd64", "")), "");
        assertThat(Manifests.selectLinuxAmd64(index).digest()).isEqualTo(Digest.parse(AMD64));
    }

    @Test
    void anIndexWithoutLinuxAmd64NamesThePlatformsItHas() throws PullException {
        var index = (Manifests.Index) parse(index(Manifests.OCI_INDEX, entry(ARM64, "linux", "arm64", "v8"),
                entry(AMD64, "windows", "amd64", "")), "");
        assertThatThrownBy(() -> Manifests.selectLinuxAmd64(index))
                .hasMessage("no linux/amd64 image in the index (it has [linux/arm64/v8, windows/amd64])");
    }

    @Test
    void schema1ManifestsAreRefusedClearly() {
        assertThatThrownBy(() -> parse("{\"schemaVersion\": 1, \"name\": \"x\", \"fsLayers\": []}", Manifests.DOCKER_SCHEMA1_SIGNED))
                .isInstanceOf(PullException.class)
                .hasMessageContaining("Docker schema 1, which is not supported");
    }

    @Test
    void artifactsThatAreNotContainerImagesAreRefused() {
        assertThatThrownBy(() -> parse(imageManifest(Manifests.OCI_MANIFEST, "application/vnd.cncf.helm.config.v1+json",
                "application/vnd.cncf.helm.chart.content.v1.tar+gzip"), ""))
                .hasMessage("not a container image (config media type 'application/vnd.cncf.helm.config.v1+json')");
    }

    @Test
    void garbageIsNotAManifest() {
        assertThatThrownBy(() -> parse("<html>", "text/html")).hasMessageStartingWith("manifest is not valid JSON");
        assertThatThrownBy(() -> parse("{\"schemaVersion\": 2}", "text/plain")).hasMessage("manifest media type 'text/plain' is not supported");
    }

    @Test
    void aManifestFetchedByDigestMustHashToIt() throws PullException {
        byte[] body = imageManifest(Manifests.OCI_MANIFEST, "application/vnd.oci.image.config.v1+json",
                "application/vnd.oci.image.layer.v1.tar").getBytes(StandardCharsets.UTF_8);
        Digest actual = Sha256.of(body);
        Digest other = Digest.parse(AMD64);

        assertThat(ManifestEndpoint.byDigest(actual).verify(body, "", Optional.empty()).digest()).isEqualTo(actual);
        assertThatThrownBy(() -> ManifestEndpoint.byDigest(other).verify(body, "", Optional.empty()))
                .hasMessage("manifest " + other + " failed verification: its content has digest " + actual);
        assertThatThrownBy(() -> ManifestEndpoint.byTag("1").verify(body, "", Optional.of(other.toString())))
                .hasMessageContaining("registry says " + other);
    }

    @Test
    void parsesTheImageConfig() throws PullException {
        String config = """
                {"architecture": "amd64", "os": "linux",
                 "config": {"Entrypoint": ["/bin/app"], "Cmd": null, "Env": ["A=1"], "User": "1000:1000"},
                 "rootfs": {"type": "layers", "diff_ids": ["%s"]}}""".formatted(LAYER);
        byte[] bytes = config.getBytes(StandardCharsets.UTF_8);
        assertThat(Manifests.parseConfig(bytes)).isEqualTo(new ImageConfig(List.of("/bin/app"), List.of(), List.of("A=1"), "", "1000:1000"));
        assertThat(Manifests.diffIds(bytes)).containsExactly(Digest.parse(LAYER));
    }
}
