/**
 * The hypervisor-agnostic driver SPI.
 *
 * <p>A {@link dev.bolero.runtime.VmmDriver} turns a {@link dev.bolero.runtime.VmSpec} into a running VMM process and
 * re-adopts one from a persisted {@link dev.bolero.runtime.VmHandle}. Everything a caller may need to know about a
 * driver is in its {@link dev.bolero.runtime.DriverCapabilities}; callers never test driver types. The guest side of
 * a machine is reached through the byte stream {@link dev.bolero.runtime.VmProcess#openControl()} returns, which
 * speaks the protocol in {@code dev.bolero.runtime.guest}, the same for every driver.
 */
package dev.bolero.runtime;
