/** The evidence bundle's table files and the CLI command whose output each must equal byte for byte. */
export const BUNDLE_TABLE_COMMANDS: readonly (readonly [argv: readonly string[], file: string])[] = [
  [['psxview', '--format', 'csv'], 'psxview.csv'], [['psxview', '--format', 'json'], 'psxview.json'],
  [['pslist', '--format', 'csv'], 'pslist.csv'], [['pslist', '--format', 'json'], 'pslist.json'],
  [['psscan', '--format', 'csv'], 'psscan.csv'], [['psscan', '--format', 'json'], 'psscan.json'],
  [['dtb', '--processes', '--format', 'csv'], 'dtb-processes.csv'],
];
