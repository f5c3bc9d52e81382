/**
 * USB approvals: records an analyst makes (`POST /api/v1/usb/approvals`, or the one-click
 * baseline) to allow a device without editing the policy document. They are stored by the
 * collector, apart from the policy, and passed to `evaluateUsb`.
 */

/** Which hosts an approval covers: every host, one host, or the hosts in any of some groups. */
export type UsbApprovalScope = { all: true } | { hostId: string } | { groups: string[] };

/** What an approval allows: one device by its key (`usb:0781:5581:<serial>`), or a whole product. */
export type UsbApprovalTarget = { deviceKey: string } | { vendorId: string; productId: string };

export type UsbApproval = UsbApprovalTarget & {
  id: string;
  scope: UsbApprovalScope;
  /** Epoch milliseconds; the approval counts while `now < expiresAt`. Absent or null: never expires. */
  expiresAt?: number | null;
  /** Who approved (user name or token name). */
  by: string;
  reason: string;
};

/** Whether an approval with this scope covers a host with this id and these groups. */
export function approvalCoversHost(scope: UsbApprovalScope, host: { id: string; groups: readonly string[] }): boolean {
  if ('all' in scope) return scope.all;
  if ('hostId' in scope) return scope.hostId === host.id;
  return scope.groups.some((g) => host.groups.includes(g));
}

/** Whether `approval` names this device (by key, or by vendor and product id, case-insensitive hex). */
export function approvalMatchesDevice(approval: UsbApprovalTarget, device: { key: string; vendorId: string; productId: string }): boolean {
  if ('deviceKey' in approval) return approval.deviceKey === device.key;
  return approval.vendorId.toLowerCase() === device.vendorId && approval.productId.toLowerCase() === device.productId;
}

/** Readable description of what an approval covers, for alert details. */
export function describeApproval(approval: UsbApproval): string {
  const what = 'deviceKey' in approval ? approval.deviceKey : `${approval.vendorId}:${approval.productId}`;
  const where = 'all' in approval.scope ? 'all hosts' : 'hostId' in approval.scope ? `host ${approval.scope.hostId}` : `groups ${approval.scope.groups.join(', ')}`;
  return `${what} on ${where}`;
}
