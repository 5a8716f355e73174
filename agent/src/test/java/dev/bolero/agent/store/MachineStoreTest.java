package dev.bolero.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.agent.machine.MachineRecord;
import dev.bolero.api.MachineEvent;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.runtime.VmHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MachineStoreTest {
    @TempDir
    Path dir;

    private static final MachineSpec CONFIG = MachineSpec.builder("127.0.0.1:5000/app:1").guest(2, 512)
            .init(new MachineSpec.Init(null, List.of("sh", "-c", "echo hi"), "/tmp", "app")).env("A", "1")
            .restart(new MachineSpec.Restart("on-failure", 3)).autoDestroy(true)
            .stop(new MachineSpec.Stop("SIGINT", 30)).build();

    @Test
    void machines_survive_a_reopen_with_every_field() {
        Instant t = Instant.parse("2026-11-22T10:00:00.123Z");
        VmHandle handle = new VmHandle("qemu", 1, 4242, Instant.parse("2026-11-22T10:00:01Z"),
                Map.of("qmp", "/run/x/qmp.sock"));
        MachineRecord m = new MachineRecord("0123456789abcdef", "web", "tenant-a", MachineState.RUNNING, CONFIG,
                Optional.of("sha256:" + "a".repeat(64)), OptionalInt.of(3), Optional.of("boom"), Optional.of(handle),
                t, t.plusSeconds(1), 2);
        try (MachineStore store = MachineStore.open(dir.resolve("bolero.db"))) {
            store.insert(m);
        }
        try (MachineStore store = MachineStore.open(dir.resolve("bolero.db"))) {
            assertThat(store.find("0123456789abcdef")).contains(m);
            assertThat(store.findByName("web")).contains(m);
            assertThat(store.list()).containsExactly(m);
        }
    }

    @Test
    void a_damaged_store_is_refused_at_open_naming_the_damage_and_left_as_it_was() throws Exception {
        Path file = dir.resolve("bolero.db");
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        try (MachineStore store = MachineStore.open(file)) {
            for (int i = 0; i < 300; i++) store.insert(MachineRecord.created("m" + i, "n" + i, "tenant-a", CONFIG, t));
        }
        byte[] bytes = Files.readAllBytes(file);
        assertThat(bytes.length).as("several pages").isGreaterThan(8 * 4096);
        java.util.Arrays.fill(bytes, 3 * 4096, 3 * 4096 + 2048, (byte) 0xAB); // a torn write in the third page
        Files.write(file, bytes);

        assertThatThrownBy(() -> MachineStore.open(file)).isInstanceOf(StoreException.class)
                .hasMessageStartingWith("open store " + file + ": the database " + file + " is damaged (")
                .hasMessageEndingWith("): nothing was changed; restore it from a backup, or move it aside to start empty");
        assertThat(Files.readAllBytes(file)).as("left as it was").isEqualTo(bytes);

        Files.writeString(file, "not a database\n".repeat(1000));
        assertThatThrownBy(() -> MachineStore.open(file)).isInstanceOf(StoreException.class)
                .hasMessageContaining("is damaged (").hasMessageContaining("not a database");
    }

    @Test
    void names_are_unique_and_delete_removes_the_row() {
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        try (MachineStore store = MachineStore.open(dir.resolve("bolero.db"))) {
            store.insert(MachineRecord.created("a1", "same", "tenant-a", CONFIG, t));
            assertThatThrownBy(() -> store.insert(MachineRecord.created("a2", "same", "tenant-a", CONFIG, t)))
                    .isInstanceOf(StoreException.class)
                    .hasMessageStartingWith("insert machine a2: ");
            store.delete("a1");
            assertThat(store.list()).isEmpty();
        }
    }

    @Test
    void events_are_kept_in_order_per_machine_and_deleted_with_it() {
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        try (MachineStore store = MachineStore.open(dir.resolve("bolero.db"))) {
            store.insert(MachineRecord.created("a1", "one", "tenant-a", CONFIG, t));
            store.insert(MachineRecord.created("b2", "two", "tenant-a", CONFIG, t));
            store.addEvent("a1", "created", MachineState.CREATED, Optional.empty(), OptionalInt.empty(), "", t);
            store.addEvent("b2", "created", MachineState.CREATED, Optional.empty(), OptionalInt.empty(), "", t);
            store.addEvent("a1", "ended", MachineState.STOPPED, Optional.of("exited"), OptionalInt.of(3), "x",
                    t.plusSeconds(2));
            List<MachineEvent> events = store.events("a1");
            assertThat(events).extracting(MachineEvent::type).containsExactly("created", "ended");
            assertThat(events.get(1)).isEqualTo(new MachineEvent(events.get(1).id(), "ended", MachineState.STOPPED,
                    "exited", 3, "x", t.plusSeconds(2)));
            assertThat(events.get(0).id()).isLessThan(events.get(1).id());
            store.delete("a1");
            assertThat(store.events("a1")).isEmpty();
            assertThat(store.events("b2")).hasSize(1);
        }
    }

    @Test
    void a_row_whose_config_named_its_namespace_keeps_it_as_a_column_after_the_migration() throws Exception {
        Path file = dir.resolve("bolero.db");
        String url = "jdbc:sqlite:" + file;
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/agent").target("5").load().migrate();
        try (var c = DriverManager.getConnection(url); var st = c.createStatement()) {
            st.execute("INSERT INTO machines (id, name, state, config, created_at, updated_at) VALUES ('a1', 'one', "
                    + "'stopped', '{\"image\":\"127.0.0.1:5000/app:1\",\"guest\":{\"cpus\":2,\"memory_mb\":512,"
                    + "\"rootfs_mb\":null},\"env\":{\"A\":\"1\"},\"namespace\":\"tenant-a\"}', "
                    + "'2026-11-22T10:00:00Z', '2026-11-22T10:00:00Z')");
        }
        try (MachineStore store = MachineStore.open(file)) {
            MachineRecord m = store.find("a1").orElseThrow();
            assertThat(m.namespace()).isEqualTo("tenant-a");
            assertThat(m.config()).isEqualTo(MachineSpec.builder("127.0.0.1:5000/app:1").guest(2, 512).env("A", "1")
                    .build());
        }
    }
}
