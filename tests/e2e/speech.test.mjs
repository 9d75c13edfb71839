// The speech task in Chromium through the npm package (index.js of the page's build), as an app
// uses it: Whisper tiny.en fine-tuned on Asterisk prompts (numbers read out one by one, which the
// prompts' transcripts spell out) with a marked validation set whose word error rate must drop;
// a long recording cut at its WebVTT cues; a file that is not audio listed, not fatal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, packagePage } from './browser.mjs';

const WEB = process.env.WEB ?? 'build/web';
const suite = browserSuite(WEB, 'test-results');

test('speech: the validation WER drops after fine-tuning; recordings with subtitles; bad files listed', { timeout: 900_000 }, async () => {
  const { page, logs } = await packagePage(suite);
  try {
    const result = await page.evaluate(async () => {
      const { createFineTuner } = await import('./index.js');
      const events = [];
      const tuner = await createFineTuner({
        task: 'speech', backend: 'cpu', modelUrl: './whisper-tiny-en/model.safetensors',
        onProgress: (e) => { if (e.type !== 'step' && e.type !== 'loading') events.push(e.type); },
      });
      const manifest = (await (await fetch('./asterisk/manifest.csv')).text()).trim().split('\n').slice(1)
        .map((line) => { const i = line.indexOf(','); return { file: line.slice(0, i), text: line.slice(i + 1).replace(/^"|"$/g, '') }; });
      const digits = manifest.filter((r) => r.file.startsWith('digits/')).slice(0, 32);
      const blobs = await Promise.all(digits.map(async (r) => new File([await (await fetch(`./asterisk/${r.file}`)).blob()], r.file)));
      tuner.addExamples(digits.map((r, i) => ({ audio: blobs[i], text: r.text, ...(i % 4 === 3 ? { validation: true } : {}) })));
      tuner.addExamples([{ audio: new Blob(['this is not audio']), text: 'nothing', name: 'notes.txt' }]);
      const zeroShot = await tuner.transcribe(blobs[3], { fineTuned: false });
      const epochs = [];
      const trained = await tuner.train({ epochs: 2, batchSize: 8, onEpochEnd: (e) => epochs.push(e) });
      const fineTuned = await tuner.transcribe(blobs[3]);

      // A recording of six prompts back to back, with its cues (one overlapping, one past the end).
      const ctx = new OfflineAudioContext(1, 1, 16000);
      const parts = [];
      const cues = [];
      let at = 0;
      for (const r of manifest.filter((r) => r.file.startsWith('vm-')).slice(0, 6)) {
        const buffer = await ctx.decodeAudioData(await (await fetch(`./asterisk/${r.file}`)).arrayBuffer());
        const resampled = new OfflineAudioContext(1, Math.round(buffer.duration * 16000), 16000);
        const src = resampled.createBufferSource(); src.buffer = buffer; src.connect(resampled.destination); src.start();
        const samples = (await resampled.startRendering()).getChannelData(0);
        parts.push(samples);
        cues.push({ start: at / 16000, end: (at + samples.length) / 16000, text: r.text });
        at += samples.length;
      }
      const recording = new Float32Array(at);
      let k = 0;
      for (const p of parts) { recording.set(p, k); k += p.length; }
      const ts = (s) => new Date(s * 1000).toISOString().slice(11, 23);
      const vtt = ['WEBVTT', '', ...cues.flatMap((c) => [`${ts(c.start)} --> ${ts(c.end)}`, c.text, '']),
        `${ts(cues[2].start)} --> ${ts(cues[2].end)}`, 'overlaps', '', '00:10:00.000 --> 00:10:05.000', 'after the end', ''].join('\n');
      const before = tuner.countExamples();
      const cut = await tuner.addRecording(recording, vtt, { name: 'podcast.wav' });
      const after = tuner.countExamples();
      const exported = await tuner.export();
      tuner.dispose();
      return { trained: { ...trained, epochs: trained.epochs.length }, epochs: epochs.length, zeroShot, fineTuned, cut, before, after, exported: exported.length, events: [...new Set(events)] };
    });
    console.log(JSON.stringify(result, null, 1).slice(0, 2000));
    assert.equal(result.epochs, 2);
    assert.ok(result.trained.zeroShotValWer > 0, 'the pretrained model makes mistakes here');
    assert.ok(result.trained.bestValWer < result.trained.zeroShotValWer, `validation WER ${result.trained.bestValWer} vs ${result.trained.zeroShotValWer} before`);
    assert.ok(result.trained.bestEpoch >= 1);
    assert.equal(result.trained.valExamples, 8);
    assert.deepEqual(result.trained.skipped.map((s) => s.name), ['notes.txt']);
    assert.match(result.trained.skipped[0].reason, /not audio/);
    assert.ok(result.events.includes('speechEpoch') && result.events.includes('speechDone') && result.events.includes('caching'), result.events.join());
    assert.equal(result.cut.added, 1, 'six short prompts make one segment of at most 30 s');
    assert.deepEqual(result.cut.skipped.map((s) => /before the previous one ends|after the recording ends/.test(s.reason)), [true, true]);
    assert.equal(result.after, result.before + 1);
    assert.ok(result.exported > 1_000_000 && result.exported < 40_000_000, `${result.exported} bytes`);
  } catch (e) {
    console.log(logs.join('\n'));
    throw e;
  } finally {
    await page.close();
  }
});
