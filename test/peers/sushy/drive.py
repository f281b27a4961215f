"""Drives a Ferrite Redfish BMC with the real sushy library, the way Ironic does.

Usage: drive.py URL SYSTEM_ID USER PASSWORD AUTH(basic|session) IMAGE_URL
Prints one JSON line per step; exits non-zero on the first failure.
"""
import json
import sys
import time

import sushy
from sushy import auth as sushy_auth

url, system_id, user, password, auth_kind, image = sys.argv[1:7]


def step(name, **kw):
    print(json.dumps({"step": name, **kw}, default=str), flush=True)


def wait_for(pred, what, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


auth = sushy_auth.BasicAuth(user, password) if auth_kind == "basic" else sushy_auth.SessionAuth(user, password)
root = sushy.Sushy(url, auth=auth, verify=False)
step("connected", redfish_version=root.redfish_version, product=root.product)
if auth_kind == "session":
    assert auth.get_session_key(), "no session token was issued"
    step("session", resource=auth.get_session_resource_id())

system = root.get_system("/redfish/v1/Systems/" + system_id)
step("system", power=system.power_state, uuid=system.uuid)

# power: on, wait, off (ForceOff), wait
system.reset_system(sushy.RESET_ON)
wait_for(lambda: system.refresh() or system.power_state == sushy.POWER_STATE_ON, "power on")
step("power-on", power=system.power_state)
system.reset_system(sushy.RESET_FORCE_OFF)
wait_for(lambda: system.refresh() or system.power_state == sushy.POWER_STATE_OFF, "power off")
step("power-off", power=system.power_state)

# boot override: Pxe once in UEFI mode, read back
system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_PXE, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE, mode=sushy.BOOT_SOURCE_MODE_UEFI)
system.refresh()
assert system.boot.target == sushy.BOOT_SOURCE_TARGET_PXE, system.boot.target
assert system.boot.enabled == sushy.BOOT_SOURCE_ENABLED_ONCE, system.boot.enabled
assert system.boot.mode == sushy.BOOT_SOURCE_MODE_UEFI, system.boot.mode
step("boot-override", target=system.boot.target, enabled=system.boot.enabled, mode=system.boot.mode)

# virtual media: find a CD slot under the system, insert, check, then boot from it once
vmedia = None
for vm in system.virtual_media.get_members():
    if sushy.VIRTUAL_MEDIA_CD in vm.media_types or sushy.VIRTUAL_MEDIA_DVD in vm.media_types:
        vmedia = vm
        break
assert vmedia is not None, "no CD/DVD virtual media slot"
vmedia.insert_media(image, inserted=True, write_protected=True)
vmedia.refresh()
assert vmedia.inserted is True and vmedia.image == image, (vmedia.inserted, vmedia.image)
step("vmedia-insert", slot=vmedia.identity, image=vmedia.image)

system.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_CD, enabled=sushy.BOOT_SOURCE_ENABLED_ONCE)
system.reset_system(sushy.RESET_ON)
wait_for(lambda: system.refresh() or system.boot.enabled == sushy.BOOT_SOURCE_ENABLED_DISABLED, "one-time boot to be consumed")
step("booted-once", enabled=system.boot.enabled, power=system.power_state)

vmedia.eject_media()
vmedia.refresh()
assert vmedia.inserted is False and not vmedia.image, (vmedia.inserted, vmedia.image)
step("vmedia-eject", inserted=vmedia.inserted)

system.reset_system(sushy.RESET_FORCE_OFF)
wait_for(lambda: system.refresh() or system.power_state == sushy.POWER_STATE_OFF, "final power off")
step("done")
