package dev.bolero.agent.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;
import dev.bolero.oci.ImageConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkloadSpecTest {
    private static final MachineSpec.Init NONE = new MachineSpec.Init(null, null, null, null);

    private static final ImageConfig IMAGE = new ImageConfig(
            List.of("/entry"), List.of("default-arg"), List.of("PATH=/bin", "A=image", "B=image"), "/srv", "app");

    @Test
    void image_config_is_used_when_nothing_is_overridden() {
        WorkloadSpec w = WorkloadSpec.merge("img", IMAGE, NONE, Map.of());
        assertThat(w.argv()).containsExactly("/entry", "default-arg");
        assertThat(w.env()).containsExactly("PATH=/bin", "A=image", "B=image");
        assertThat(w.workdir()).isEqualTo("/srv");
        assertThat(w.user()).isEqualTo("app");
    }

    @Test
    void cmd_override_keeps_the_entrypoint() {
        WorkloadSpec w = WorkloadSpec.merge("img", IMAGE, new MachineSpec.Init(null, List.of("x"), null, null), Map.of());
        assertThat(w.argv()).containsExactly("/entry", "x");
    }

    @Test
    void entrypoint_override_drops_the_image_cmd_like_docker() {
        WorkloadSpec w = WorkloadSpec.merge("img", IMAGE, new MachineSpec.Init(List.of("/other"), null, null, null),
                Map.of());
        assertThat(w.argv()).containsExactly("/other");
    }

    @Test
    void env_is_merged_over_the_image_env_keeping_its_order() {
        WorkloadSpec w = WorkloadSpec.merge("img", IMAGE, NONE, Map.of("B", "machine", "C", "new"));
        assertThat(w.env()).containsExactly("PATH=/bin", "A=image", "B=machine", "C=new");
    }

    @Test
    void defaults_fill_path_workdir_and_user() {
        ImageConfig bare = new ImageConfig(List.of(), List.of("sh"), List.of(), "", "");
        WorkloadSpec w = WorkloadSpec.merge("img", bare, new MachineSpec.Init(null, null, "/tmp", "1000:1000"), Map.of());
        assertThat(w.env()).containsExactly("PATH=" + WorkloadSpec.DEFAULT_PATH);
        assertThat(w.workdir()).isEqualTo("/tmp");
        assertThat(w.user()).isEqualTo("1000:1000");
        WorkloadSpec d = WorkloadSpec.merge("img", bare, NONE, Map.of());
        assertThat(d.workdir()).isEqualTo("/");
        assertThat(d.user()).isEqualTo("0:0");
    }

    @Test
    void an_image_without_a_program_is_refused_naming_the_image() {
        ImageConfig empty = new ImageConfig(List.of(), List.of(), List.of(), "", "");
        assertThatThrownBy(() -> WorkloadSpec.merge("127.0.0.1:5000/empty:1", empty, NONE, Map.of()))
                .isInstanceOf(ApiException.class)
                .hasMessageContaining("image 127.0.0.1:5000/empty:1 has no entrypoint or cmd");
    }
}
