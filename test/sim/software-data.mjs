// Software titles for the simulator's Windows and macOS templates. There is no Windows or Mac here
// to read them from, so they are written out: real products with versions current in mid-2024 and
// the publisher strings their installers write ("Programs and Features" on Windows; macOS apps
// have no publisher in Info.plist, so none is given, as the agent reports them). The registry
// entries that the fixtures under test/fixtures/win32/software/ and the apps and Homebrew formulae
// under test/fixtures/darwin/software/ show are read from there and added (templates.mjs).
//
// Each entry: [name, version, publisher?, arch?]. `status` in the lists below is what the fleet
// policy (fleet-policy.mjs) says of it: the simulator only uses it to build that policy.

const MS = 'Microsoft Corporation';

/** On every Windows host. */
export const WINDOWS_CORE = [
  ['Microsoft Edge', '125.0.2535.67', MS],
  ['Microsoft Edge Update', '1.3.187.41', MS],
  ['Microsoft Edge WebView2 Runtime', '125.0.2535.67', MS],
  ['Microsoft Update Health Tools', '5.72.0.0', MS],
  ['Microsoft OneDrive', '24.086.0428.0003', MS],
  ['Microsoft 365 Apps for enterprise - en-us', '16.0.17531.20152', MS],
  ['Teams Machine-Wide Installer', '1.7.0.3653', MS],
  ['Microsoft Intune Management Extension', '1.79.107.0', MS],
  ['Microsoft Policy Platform', '68.1.1010.0', MS],
  ['Windows PC Health Check', '3.6.2204.08001', MS],
  ['Microsoft GameInput', '10.1.22621.3036', MS],
  ['Microsoft Visual C++ 2008 Redistributable - x64 9.0.30729.6161', '9.0.30729.6161', MS],
  ['Microsoft Visual C++ 2008 Redistributable - x86 9.0.30729.6161', '9.0.30729.6161', MS, 'x86'],
  ['Microsoft Visual C++ 2010  x64 Redistributable - 10.0.40219', '10.0.40219', MS],
  ['Microsoft Visual C++ 2010  x86 Redistributable - 10.0.40219', '10.0.40219', MS, 'x86'],
  ['Microsoft Visual C++ 2012 Redistributable (x64) - 11.0.61030', '11.0.61030.0', MS],
  ['Microsoft Visual C++ 2012 Redistributable (x86) - 11.0.61030', '11.0.61030.0', MS, 'x86'],
  ['Microsoft Visual C++ 2013 Redistributable (x64) - 12.0.40664', '12.0.40664.0', MS],
  ['Microsoft Visual C++ 2013 Redistributable (x86) - 12.0.40664', '12.0.40664.0', MS, 'x86'],
  ['Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33135', '14.38.33135.0', MS],
  ['Microsoft Visual C++ 2015-2022 Redistributable (x86) - 14.38.33135', '14.38.33135.0', MS, 'x86'],
  ['Microsoft .NET Runtime - 6.0.31 (x64)', '48.127.20219', MS],
  ['Microsoft Windows Desktop Runtime - 6.0.31 (x64)', '48.127.20226', MS],
  ['Microsoft .NET Runtime - 8.0.6 (x64)', '64.24.27210', MS],
  ['Microsoft Windows Desktop Runtime - 8.0.6 (x64)', '64.24.27219', MS],
  ['Microsoft ASP.NET Core 8.0.6 - Shared Framework (x64)', '8.0.6.24267', MS],
  ['Google Chrome', '125.0.6422.142', 'Google LLC'],
  ['Mozilla Firefox (x64 en-GB)', '126.0.1', 'Mozilla'],
  ['Mozilla Maintenance Service', '126.0.1', 'Mozilla'],
  ['7-Zip 23.01 (x64)', '23.01', 'Igor Pavlov'],
  ['Zoom Workplace (64-bit)', '6.0.11 (39959)', 'Zoom Video Communications, Inc.'],
  ['Cisco Secure Client - AnyConnect VPN', '5.1.2.42', 'Cisco Systems, Inc.'],
  ['CrowdStrike Windows Sensor', '7.14.18408.0', 'CrowdStrike, Inc.'],
  ['Intel(R) Management Engine Components', '2240.5.0.1011', 'Intel Corporation'],
  ['Intel(R) Chipset Device Software', '10.1.19444.8378', 'Intel(R) Corporation'],
  ['Intel(R) Serial IO', '30.100.2237.26', 'Intel Corporation'],
  ['Intel® Graphics Driver', '31.0.101.4502', 'Intel Corporation'],
  ['Intel(R) Wireless Bluetooth(R)', '23.40.0.2', 'Intel Corporation'],
  ['Intel(R) PROSet/Wireless Software', '23.40.0', 'Intel Corporation'],
  ['Realtek Audio Driver', '6.0.9500.1', 'Realtek Semiconductor Corp.'],
  ['Realtek Card Reader', '10.0.22000.21355', 'Realtek Semiconductor Corp.'],
];

/** Each present on a given Windows host with probability `WINDOWS_OPTIONAL_P`. */
export const WINDOWS_OPTIONAL = [
  ['Adobe Acrobat (64-bit)', '24.002.20759', 'Adobe'],
  ['Adobe Acrobat Reader (64-bit)', '24.002.20759', 'Adobe'],
  ['Notepad++ (64-bit x64)', '8.6.7', 'Notepad++ Team'],
  ['VLC media player', '3.0.20', 'VideoLAN'],
  ['Citrix Workspace 2402', '24.2.0.172', 'Citrix Systems, Inc.'],
  ['Java 8 Update 411 (64-bit)', '8.0.4110.9', 'Oracle Corporation'],
  ['Python 3.12.3 (64-bit)', '3.12.3150.0', 'Python Software Foundation'],
  ['Git', '2.45.1', 'The Git Development Community'],
  ['Microsoft Visual Studio Code (User)', '1.89.1', MS],
  ['Slack (Machine - MSI)', '4.38.125', 'Slack Technologies Inc.'],
  ['KeePass Password Safe 2.57', '2.57', 'Dominik Reichl'],
  ['PuTTY release 0.81 (64-bit)', '0.81.0.0', 'Simon Tatham'],
  ['WinSCP 6.3.3', '6.3.3', 'Martin Prikryl'],
  ['Greenshot 1.2.10.6', '1.2.10.6', 'Greenshot'],
  ['paint.net', '5.0.13', 'dotPDN LLC'],
  ['GIMP 2.10.38', '2.10.38', 'The GIMP Team'],
  ['Audacity 3.5.1', '3.5.1', 'Audacity Team'],
  ['LibreOffice 24.2.3.2', '24.2.3.2', 'The Document Foundation'],
  ['NVIDIA Graphics Driver 552.22', '552.22', 'NVIDIA Corporation'],
  ['NVIDIA HD Audio Driver 1.3.40.14', '1.3.40.14', 'NVIDIA Corporation'],
  ['NVIDIA PhysX System Software 9.23.1019', '9.23.1019', 'NVIDIA Corporation'],
  ['Dell SupportAssist', '4.0.3.53372', 'Dell Inc.'],
  ['Dell Command | Update', '5.3.0', 'Dell Inc.'],
  ['Lenovo Vantage Service', '4.1.5.0', 'Lenovo Group Ltd.'],
  ['HP Wolf Security', '4.25.2.1489', 'HP Inc.'],
  ['Windows Software Development Kit - Windows 10.0.22621.3233', '10.1.22621.3233', MS],
  ['Microsoft SQL Server Management Studio - 20.1', '20.1.10.0', MS],
  ['Power BI Desktop (x64)', '2.129.905.0', MS],
  ['Microsoft Visio - en-us', '16.0.17531.20152', MS],
  ['Wireshark 4.2.5 x64', '4.2.5', 'The Wireshark developer community, https://www.wireshark.org'],
];
export const WINDOWS_OPTIONAL_P = 0.35;

/** What users install on Windows during a run: [entry, status in the fleet policy]. */
export const WINDOWS_INSTALLABLE = [
  [['Spotify', '1.2.37.701', 'Spotify AB'], 'unapproved'],
  [['Steam', '2.10.91.91', 'Valve Corporation'], 'unapproved'],
  [['Discord', '1.0.9147', 'Discord Inc.'], 'unapproved'],
  [['WinRAR 7.00 (64-bit)', '7.00.0', 'win.rar GmbH'], 'unapproved'],
  [['AnyDesk', '8.0.10', 'philandro Software GmbH'], 'unapproved'],
  [['µTorrent', '3.6.0.47016', 'BitTorrent Inc.'], 'prohibited'],
  [['qBittorrent 4.6.4', '4.6.4', 'The qBittorrent project'], 'prohibited'],
  [['Microsoft Teams', '24124.1412.2911.3341', MS], 'approved'],
  [['Webex', '44.5.0.29672', 'Cisco Systems, Inc'], 'approved'],
];

/** Apple's own apps in /Applications on every Mac (CFBundleName, CFBundleShortVersionString). */
export const MAC_CORE = [
  ['Safari', '17.5'],
  ['Mail', '16.0'],
  ['Calendar', '11.0'],
  ['Notes', '4.11'],
  ['Photos', '9.0'],
  ['Music', '1.4.5'],
  ['TV', '1.4.5'],
  ['Podcasts', '1.1.0'],
  ['FaceTime', '5.0'],
  ['Messages', '14.0'],
  ['Maps', '3.0'],
  ['Preview', '11.0'],
  ['TextEdit', '1.19'],
  ['Books', '6.5'],
  ['Reminders', '7.0'],
  ['Contacts', '14.0'],
  ['Freeform', '3.0'],
  ['Stocks', '7.1'],
  ['Weather', '5.1'],
  ['Home', '8.0'],
  ['News', '10.5'],
  ['Shortcuts', '7.0'],
  ['System Settings', '15.0'],
  ['App Store', '3.0'],
  ['Keynote', '14.0'],
  ['Numbers', '14.0'],
  ['Pages', '14.0'],
  ['GarageBand', '10.4.11'],
  ['iMovie', '10.4.1'],
  ['Google Chrome', '125.0.6422.142'],
  ['Microsoft Word', '16.85'],
  ['Microsoft Excel', '16.85'],
  ['Microsoft PowerPoint', '16.85'],
  ['Microsoft Outlook', '16.85'],
  ['Microsoft Teams', '24124.1412.2911.3341'],
  ['OneDrive', '24.086.0428'],
  ['zoom.us', '6.0.11'],
  ['Falcon', '7.14.18408.0'],
  ['Cisco Secure Client', '5.1.2.42'],
];

export const MAC_OPTIONAL = [
  ['Firefox', '126.0.1'],
  ['Slack', '4.38.125'],
  ['1Password', '8.10.30'],
  ['Visual Studio Code', '1.89.1'],
  ['iTerm', '3.5.0'],
  ['Docker', '4.30.0'],
  ['Postman', '11.1.0'],
  ['Figma', '124.1.6'],
  ['Xcode', '15.4'],
  ['Rectangle', '0.80'],
  ['Alfred 5', '5.5'],
  ['Adobe Acrobat Reader', '24.002.20759'],
  ['VLC', '3.0.20'],
  ['Miro', '0.8.48'],
];
export const MAC_OPTIONAL_P = 0.35;

/** Homebrew formulae a developer's Mac may have on top of the fixture's (`brew list --versions`). */
export const BREW_OPTIONAL = [
  ['git', '2.45.1'],
  ['node', '22.2.0'],
  ['python@3.12', '3.12.3'],
  ['openssl@3', '3.3.0'],
  ['jq', '1.7.1'],
  ['wget', '1.24.5'],
  ['gh', '2.49.2'],
  ['awscli', '2.15.57'],
  ['kubernetes-cli', '1.30.1'],
  ['terraform', '1.5.7'],
];

export const MAC_INSTALLABLE = [
  [['Spotify', '1.2.37'], 'unapproved'],
  [['Steam', '4.0'], 'unapproved'],
  [['Transmission', '4.0.5'], 'prohibited'],
  [['Slack', '4.38.125'], 'approved'],
  [['Firefox', '126.0.1'], 'approved'],
];

/**
 * Packages users add on Debian/Ubuntu desktops from third-party repositories or the archive:
 * [name, version, maintainer, arch], with the fleet policy's status.
 */
export const DEB_INSTALLABLE = [
  [['google-chrome-stable', '125.0.6422.141-1', 'Chrome Linux Team <chromium-dev@chromium.org>', 'amd64'], 'approved'],
  [['code', '1.89.1-1715060508', 'Microsoft Corporation <vscode-linux@microsoft.com>', 'amd64'], 'approved'],
  [['zoom', '6.0.12.5501', 'Zoom Video Communications, Inc. <support@zoom.us>', 'amd64'], 'approved'],
  [['slack-desktop', '4.38.125', 'Slack Technologies <feedback@slack.com>', 'amd64'], 'approved'],
  [['spotify-client', '1:1.2.37.701.ge66eb7bc', 'Spotify <tux@spotify.com>', 'amd64'], 'unapproved'],
  [['steam-launcher', '1:1.0.0.79', 'Valve Corporation <linux@steampowered.com>', 'all'], 'unapproved'],
  [['anydesk', '6.3.2', 'philandro Software GmbH <info@philandro.com>', 'amd64'], 'unapproved'],
  [['qbittorrent', '4.5.2-3+deb12u1', 'Christian Marillat <marillat@debian.org>', 'amd64'], 'prohibited'],
  [['transmission-gtk', '3.00-2.1+deb12u1', 'Debian Transmission Maintainers <pkg-transmission-devel@lists.alioth.debian.org>', 'amd64'], 'prohibited'],
];
