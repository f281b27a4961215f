// The behaviours a BMC personality can switch on, as data: each is one observable deviation of a
// real BMC (../shared/reference/bmc.md §3, row numbers in the descriptions) or a fault the
// conformance harness must detect. The emulator core stays correct; overlay.ts applies these.
import { z } from 'zod';

const ms = z.number().int().min(0);

export const quirksSchema = z
  .object({
    // ---- identity ----
    vendor: z.string().optional().describe('ServiceRoot Vendor (Ironic detects the vendor from it)'),
    manufacturer: z.string().optional().describe('ComputerSystem Manufacturer'),
    managerModel: z.string().optional().describe('Manager Model (iDRAC generation sniffing)'),
    managerFirmware: z.string().optional().describe('Manager FirmwareVersion'),

    // ---- service and headers ----
    rootRequiresAuth: z.boolean().optional().describe('the service root answers 401 without credentials'),
    odataVersionRejected: z.boolean().optional().describe('a request carrying OData-Version: 4.0 gets 412'),
    identityEncodingRejected: z.boolean().optional().describe('Accept-Encoding: identity gets 406 (HPE Gen10 Plus, row 11)'),
    noEtag: z.boolean().optional().describe('no ETag header or @odata.etag'),
    ifMatchIgnored: z.boolean().optional().describe('a stale If-Match is accepted'),
    ifMatchRequired: z.boolean().optional().describe('PATCH without If-Match gets 428 (Lenovo XCC, Huawei iBMC, row 18)'),
    weakEtagRejected: z.boolean().optional().describe('If-Match with a weak W/ ETag gets 412 (row 18)'),
    plainErrors: z.boolean().optional().describe('errors come back as text/plain, not the Redfish extended-error body'),
    latencyMs: ms.optional().describe('every request is answered this much later'),
    maxConcurrent: z.number().int().min(1).optional().describe('requests beyond this many in flight get 503'),
    copyrightAnnotation: z.boolean().optional().describe('payloads carry @Redfish.Copyright (only mockups may)'),

    // ---- authentication ----
    basicAuthDisabled: z.boolean().optional().describe('HTTP Basic is refused; only sessions work'),
    noWwwAuthenticate: z.boolean().optional().describe('401 answers carry no WWW-Authenticate header'),
    noSessionService: z.boolean().optional().describe('no SessionService (sushy-tools)'),
    maxSessions: z.number().int().min(1).optional().describe('concurrent sessions allowed'),
    sessionDeleteIgnored: z.boolean().optional().describe('DELETE of a session answers 204 but the token stays valid'),

    // ---- power ----
    resetTypes: z.array(z.string()).optional().describe('the ResetType values offered and accepted'),
    onConflicts: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Reset On answers 409 ActionParameterValueConflict this many times in a row before it is accepted (iDRAC10, row 4)'),
    powerOffIgnored: z.boolean().optional().describe('ForceOff answers 204 and nothing happens'),
    powerOnIgnored: z.boolean().optional().describe('On answers 204 and nothing happens'),
    restartIgnored: z.boolean().optional().describe('ForceRestart answers 204 and the system does not restart'),
    idempotentPowerFails: z.boolean().optional().describe('ForceOff while Off or On while On answers 500'),

    // ---- boot override ----
    bootTargets: z.array(z.string()).optional().describe('BootSourceOverrideTarget values offered and accepted'),
    noBootTargetAllowableValues: z.boolean().optional().describe('no BootSourceOverrideTarget@Redfish.AllowableValues'),
    onceCoercedToContinuous: z.boolean().optional().describe('Enabled Once is stored as Continuous (kubevirtbmc, sushy-tools, row 24)'),
    continuousRejected: z.boolean().optional().describe('Enabled Continuous gets 400 (row 19)'),
    continuousCoercedToOnce: z.boolean().optional().describe('Enabled Continuous is accepted and stored as Once'),
    fullBootRequest: z
      .enum(['ignore', 'reject'])
      .optional()
      .describe('a Boot PATCH without Target+Enabled(+Mode) is ignored (Supermicro, row 13) or refused (AMI, row 16)'),
    bootDeviceResetsMode: z.boolean().optional().describe('changing the target resets Mode to Legacy (Supermicro, row 13)'),
    noBootMode: z.boolean().optional().describe('no BootSourceOverrideMode (HPE Gen9, row 10)'),
    bootModeReadOnly: z.boolean().optional().describe('a Mode PATCH answers 204 and nothing changes'),
    duringPostBusy: z.boolean().optional().describe('a Boot PATCH during POST gets 400 UnableToModifyDuringSystemPOST (iLO, row 7)'),
    overrideNotHonoured: z.boolean().optional().describe('firmware ignores the boot override and boots the persistent order'),
    onceNotCleared: z.boolean().optional().describe('a Once override stays Once after it was used'),

    // ---- virtual media ----
    noVirtualMedia: z.boolean().optional().describe('no VirtualMedia under the System (nor the Manager)'),
    cdMediaTypes: z.array(z.string()).optional().describe('MediaTypes of the CD slot (Cisco UCS offers only DVD, row 20)'),
    noUsbSlot: z.boolean().optional().describe('no Floppy/USBStick slot'),
    usbSlotRefuses: z.boolean().optional().describe('the USB slot refuses every InsertMedia (internal-only slot, row 20)'),
    insertRejectsOptional: z.boolean().optional().describe('InsertMedia refuses Inserted/WriteProtected (Supermicro, row 14)'),
    insertIgnored: z.boolean().optional().describe('InsertMedia answers 204 and fetches nothing'),
    insertAfterEject5xxMs: ms.optional().describe('InsertMedia within this window after an eject gets 500 (iDRAC, row 2)'),
    ejectNeedsBody: z.boolean().optional().describe('EjectMedia without a body gets 415 (iLO, row 9)'),
    ejectIgnored: z.boolean().optional().describe('EjectMedia answers 204 and the media stays'),
    staleInsertedMs: ms.optional().describe('Inserted stays true this long after an eject (iDRAC, row 1)'),
    mediaNotBootable: z.boolean().optional().describe('firmware does not boot from the virtual CD'),
    httpsMediaUnsupported: z.boolean().optional().describe('InsertMedia of an https:// image answers 204 and the fetch fails'),

    // ---- inventory, settings, tasks ----
    dropProperties: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe('properties (dotted paths) removed from payloads, by @odata.type name, e.g. {ComputerSystem: [MemorySummary]}'),
    biosNeverApplied: z.boolean().optional().describe('pending BIOS settings are never applied'),
    secureBootNeverApplied: z.boolean().optional().describe('a SecureBootEnable PATCH answers 200 and nothing changes'),
    noOperationApplyTimeSupport: z.boolean().optional().describe('the Volumes collection has no @Redfish.OperationApplyTimeSupport'),
    simpleUpdateNoTask: z.boolean().optional().describe('SimpleUpdate answers 204 with no task (sushy-tools)'),
    taskNoLocation: z.boolean().optional().describe('202 answers carry no Location'),
    dateTimeReadOnly: z.boolean().optional().describe('Manager DateTime refuses PATCH'),
    noDateTime: z.boolean().optional().describe('Manager has no DateTime'),

    // ---- IPMI ----
    ipmiCipherSuites: z.array(z.number().int()).optional().describe('cipher suites the IPMI server accepts (OpenBMC: [17], row 23)'),
    ipmiAdvertisedSuites: z
      .array(z.number().int())
      .optional()
      .describe('cipher suites Get Channel Cipher Suites lists, when it differs from what is accepted'),
    ipmiNoCycle: z.boolean().optional().describe('Chassis Control power cycle answers 0xCC (virtualbmc)'),
    ipmiPowerIgnored: z.boolean().optional().describe('Chassis Control completes and nothing happens'),
    ipmiBootAlwaysPersistent: z.boolean().optional().describe('boot flags are always persistent (virtualbmc)'),
    ipmiSeparateState: z.boolean().optional().describe('IPMI sees a power state of its own, not the Redfish one'),
  })
  .strict();

export type Quirks = z.infer<typeof quirksSchema>;
