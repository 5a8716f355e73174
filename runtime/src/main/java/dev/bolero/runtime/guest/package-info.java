/**
 * The host side of the guest control protocol ({@code docs/guest-protocol.md}): what {@code bolero-init} is told to
 * run ({@link dev.bolero.runtime.guest.GuestConfig}), what it reports ({@link dev.bolero.runtime.guest.GuestEvent})
 * and the session that speaks the framing over a driver's control channel
 * ({@link dev.bolero.runtime.guest.GuestSession}).
 */
package dev.bolero.runtime.guest;
