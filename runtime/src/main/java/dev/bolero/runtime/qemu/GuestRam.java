package dev.bolero.runtime.qemu;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Where a QEMU keeps its guest's RAM. Whichever, QEMU names the RAM block {@value #BLOCK} (the microvm machine's
 * default RAM id), so a migration stream saved from one kind loads into another: a suspend's snapshot resumes
 * whatever RAM the resuming QEMU has.
 */
sealed interface GuestRam {
    /** The RAM block's and memory backend's id: the microvm machine's {@code default-ram-id}. */
    String BLOCK = "microvm.ram";

    /**
     * Anonymous memory, QEMU's default: for a VM that loads all its RAM from a migration stream. The load reads every
     * page before it writes it; in anonymous memory a page the guest had zeroed stays unallocated (a memfd's would be
     * allocated by that read).
     */
    record Anonymous() implements GuestRam {}

    /**
     * A memfd QEMU makes ({@code memory-backend-memfd}), mapped shared: memory like anonymous memory, private to that
     * QEMU and freed with it, not bounded by {@code /dev/shm}'s size, yet readable through {@code /proc/<pid>/fd/}
     * as {@value #MEMFD}, so that a suspend or a fork copies the paused VM's RAM from there (holes stay holes)
     * instead of migrating it, and a resume writes it back there before the devices' state loads.
     */
    record Shared() implements GuestRam {
        /** The name of the memfd QEMU makes (its backend type), which {@code /proc/<pid>/fd/} shows. */
        static final String MEMFD = "/memfd:memory-backend-memfd";
    }

    /**
     * A seed's memory file mapped private (copy-on-write): pages an unjailed clone only reads come from the page cache
     * that every clone of the seed shares; a page it writes becomes its own.
     */
    record Private(Path file) implements GuestRam {
        public Private {
            Objects.requireNonNull(file, "file");
        }
    }

    /**
     * The options that give the guest {@code memoryMb} of this RAM: empty for {@link Anonymous}, else a
     * memory backend object; the machine option then names it ({@link #machineOption}).
     */
    default List<String> objectOptions(int memoryMb) {
        return switch (this) {
            case Anonymous a -> List.of();
            case Shared s -> List.of("-object", "memory-backend-memfd,id=" + BLOCK + ",size=" + memoryMb + "M,share=on");
            case Private p -> List.of("-object", "memory-backend-file,id=" + BLOCK + ",size=" + memoryMb + "M,mem-path="
                    + QemuCommand.escape(p.file().toAbsolutePath()) + ",share=off");
        };
    }

    /** What the {@code -M} value gets appended: empty, or {@code ,memory-backend=}{@value #BLOCK}. */
    default String machineOption() {
        return this instanceof Anonymous ? "" : ",memory-backend=" + BLOCK;
    }
}
