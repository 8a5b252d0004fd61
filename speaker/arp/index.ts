/** ARP responder of the bare-metal speaker: answers ARP for announced VIPs and sends gratuitous ARP on takeover. */
export { ArpResponder, type ArpResponderOptions, type ArpStatsEvent } from "./arp-responder.js";
export {
  ARP_FRAME_LENGTH,
  ARP_REPLY,
  ARP_REQUEST,
  BROADCAST_MAC,
  type ArpFrame,
  type ArpOperation,
  buildArpFrame,
  buildArpReply,
  buildGratuitousArp,
  isIPv4,
  normalizeMac,
  parseArpFrame,
} from "./arp-packet.js";
export {
  type ArpInterface,
  arpIneligibility,
  DEFAULT_EXCLUDED_INTERFACES,
  type InterfaceFilter,
  type LinkAttributes,
  listArpInterfaces,
  type ListInterfacesOptions,
  nodeSysfsReader,
  readLinkAttributes,
  type SysfsReader,
} from "./network-interfaces.js";
export {
  CaptureError,
  InvalidAnnounceAddressError,
  type OpenCapture,
  type PacketHandlers,
  type PacketSession,
} from "./packet-session.js";
export { type CaptureProcessOptions, captureProcessOpener, openCaptureProcess } from "./capture-process.js";
