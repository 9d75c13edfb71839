// Turning what the user drops or picks into labelled examples: the class of a file is the name of
// the folder that holds it (a dropped folder tree: one subfolder per class).

import type { ImageExample } from '../../npm/src/index';

/** An image example with a name for messages (its path). */
export type NamedImage = ImageExample & { name: string };

/** Files and their path relative to the dropped/picked root. */
export interface PathFile { file: File; path: string }

/** Reads every file under the dropped items, folders included (recursively). */
export async function filesFromDrop(items: DataTransferItemList): Promise<PathFile[]> {
  const entries = Array.from(items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => Boolean(e));
  const out: PathFile[] = [];
  for (const entry of entries) await walk(entry, '', out);
  return out;
}

async function walk(entry: FileSystemEntry, prefix: string, out: PathFile[]): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, path, out);
    }
  }
}

/** Files from an `<input type=file webkitdirectory>` (or a plain multiple-file input). */
export function filesFromInput(list: FileList): PathFile[] {
  return Array.from(list).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** Labels files by their parent folder; hidden files and folders and macOS's `__MACOSX` are ignored. Sorted by class then path. */
export function toExamples(files: PathFile[]): NamedImage[] {
  return files
    .filter(({ path }) => !path.split('/').some((part) => part.startsWith('.') || part === '__MACOSX'))
    .map(({ file, path }) => {
      const parts = path.split('/');
      const label = parts.length >= 2 ? parts[parts.length - 2] : '(no folder)';
      return { image: file, name: path, label };
    })
    .sort((a, b) => a.label.localeCompare(b.label) || a.name.localeCompare(b.name));
}

/** Class names in order and how many files each has. */
export function classCounts(examples: NamedImage[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const ex of examples) counts.set(ex.label, (counts.get(ex.label) ?? 0) + 1);
  return counts;
}

/** Highlights `zone` while something is dragged over it and hands the dropped data to `onDrop`. */
export function dropZone(zone: HTMLElement, onDrop: (data: DataTransfer) => void): void {
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer) onDrop(e.dataTransfer);
  });
}
