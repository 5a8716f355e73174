/** The choice of a node's driver among those its host can run: {@link dev.bolero.runtime.drivers.Drivers}. */
package dev.bolero.runtime.drivers;
