package dev.bolero.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bolero.agent.machine.MachineRecord;
import dev.bolero.api.GuestResources;
import dev.bolero.api.InitOverrides;
import dev.bolero.api.MachineConfig;
import dev.bolero.api.MachineEvent;
import dev.bolero.api.RestartPolicy;
import dev.bolero.api.StopRequest;
import dev.bolero.api.MachineState;
import dev.bolero.runtime.VmHandle;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MachineStoreTest {
    @TempDir
    Path dir;

    private static final MachineConfig CONFIG = new MachineConfig("127.0.0.1:5000/app:1", new GuestResources(2, 512),
            new InitOverrides(null, List.of("sh", "-c", "echo hi"), "/tmp", "app"), Map.of("A", "1"),
            new RestartPolicy("on-failure", 3), true, new StopRequest("SIGINT", 30), "tenant-a", null, null);

    @Test
    void machines_survive_a_reopen_with_every_field() {
        Instant t = Instant.parse("2026-11-22T10:00:00.123Z");
        VmHandle handle = new VmHandle("qemu", 1, 4242, Instant.parse("2026-11-22T10:00:01Z"),
                Map.of("qmp", "/run/x/qmp.sock"));
        MachineRecord m = new MachineRecord("0123456789abcdef", "web", MachineState.RUNNING, CONFIG,
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
    void names_are_unique_and_delete_removes_the_row() {
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        try (MachineStore store = MachineStore.open(dir.resolve("bolero.db"))) {
            store.insert(MachineRecord.created("a1", "same", CONFIG, t));
            assertThatThrownBy(() -> store.insert(MachineRecord.created("a2", "same", CONFIG, t)))
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
            store.insert(MachineRecord.created("a1", "one", CONFIG, t));
            store.insert(MachineRecord.created("b2", "two", CONFIG, t));
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
}
