package dev.bolero.runtime.drivers;

import dev.bolero.runtime.DriverCapabilities;
import dev.bolero.runtime.JailConfig;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.cloudhypervisor.CloudHypervisorDriver;
import dev.bolero.runtime.firecracker.FirecrackerDriver;
import dev.bolero.runtime.qemu.QemuDriver;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The drivers a node can run, what each can do here, and the choice of one ({@code --driver}). With a jail
 * configured, every driver runs its VMM through {@code bolero-jailer}: a machine never runs with less confinement
 * than configured, whichever driver runs it.
 */
public final class Drivers {
    /** Every driver, in the order {@code auto} prefers them. */
    public static final List<String> NAMES = List.of("firecracker", "cloud-hypervisor", "qemu");

    /** The choice that takes the first usable driver of {@link #NAMES}. */
    public static final String AUTO = "auto";

    private Drivers() {}

    /**
     * One driver on this host.
     *
     * @param reason why it is unusable; null when usable
     */
    public record Status(String name, boolean usable, String reason, DriverCapabilities capabilities) {
        public Status {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(capabilities, "capabilities");
        }
    }

    /** The chosen driver and the status of every driver. */
    public record Selection(VmmDriver driver, List<Status> drivers) {
        public Selection {
            Objects.requireNonNull(driver, "driver");
            drivers = List.copyOf(drivers);
        }
    }

    /**
     * Chooses a driver.
     *
     * @param choice {@link #AUTO} or one of {@link #NAMES}
     * @param accel the QEMU driver's accelerator choice
     * @param jail how VMMs are confined; empty: not at all
     * @throws VmmException when {@code choice} is unknown or the chosen driver (with {@code auto}: every driver) is
     *     unusable here, with the reasons
     */
    public static Selection select(String choice, QemuDriver.Accel accel, Optional<JailConfig> jail)
            throws VmmException {
        List<VmmDriver> all = List.of(new FirecrackerDriver(Optional.empty(), jail),
                new CloudHypervisorDriver(Optional.empty(), jail), new QemuDriver(accel, jail));
        List<Status> statuses = new ArrayList<>();
        for (VmmDriver d : all) {
            Optional<String> why = d.unusableReason();
            statuses.add(new Status(d.name(), why.isEmpty(), why.orElse(null), d.capabilities()));
        }
        if (!choice.equals(AUTO) && !NAMES.contains(choice)) {
            throw new VmmException("choose driver: unknown driver '" + choice + "' (auto, " + String.join(", ", NAMES)
                    + ")");
        }
        for (int i = 0; i < all.size(); i++) {
            Status s = statuses.get(i);
            if (s.usable() && (choice.equals(AUTO) || choice.equals(s.name()))) return new Selection(all.get(i), statuses);
        }
        throw new VmmException("choose driver " + choice + ": " + String.join("; ", statuses.stream()
                .filter(s -> choice.equals(AUTO) || choice.equals(s.name()))
                .map(s -> s.name() + ": " + s.reason()).toList()));
    }
}
