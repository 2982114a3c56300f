// A fundus-like SLO image in which glaucoma is visible: a circular field with illumination gradient and vignetting,
// a low-frequency background texture, the optic disc (bright neuroretinal rim) with its cup (brighter, radius =
// cup-to-disc ratio × disc radius, optionally a rim notch where the cup reaches the disc margin), vessels leaving the
// disc, a darker macula, and acquisition noise. Every length is relative to the image size, so a 290 × 224 image
// and the real 664 × 512 show the same anatomy. `quality` scales the contrast of the disc and cup (the label
// signal) and the noise: the between-group bias mechanism of the structured generator (./structured.ts).
import type { SeededRng } from '@fairclip/io';

/** The anatomy of one eye (what the label changes: cupToDisc and notch). */
export interface FundusAnatomy {
  /** Vertical cup-to-disc ratio, 0..1. */
  cupToDisc: number;
  /** A localized rim notch (cup reaching the disc margin in one sector), glaucomatous. */
  notch: boolean;
}

/** Acquisition quality: contrast of the disc/cup features (1 = full) and noise standard deviation (gray levels). */
export interface FundusQuality {
  contrast: number;
  noiseSd: number;
}

/** The look of a device (the fine-tuning data and the pretraining corpus differ here: a shifted style). */
export interface FundusStyle {
  /** Background gray level at the field centre. */
  background: number;
  /** Peak brightness added by the disc's rim and by the cup. */
  discGain: number;
  cupGain: number;
  /** Disc radius as a fraction of min(height, width) (mean; ±10 % per eye). */
  discRadius: number;
  /** Vignetting strength (0 = flat field). */
  vignetting: number;
  /** Linear illumination gradient amplitude (fraction of the background, random direction). */
  illumination: number;
  /** Vessel darkening (gray levels). */
  vesselContrast: number;
  /** Horizontal distance of the disc from the field centre, fraction of the width (0: a disc-centred photograph). */
  discOffset: number;
}

/** The fine-tuning data's device (the synthetic Harvard-FairVLMed). */
export const FAIRVLMED_STYLE: Readonly<FundusStyle> = {
  background: 78,
  discGain: 62,
  cupGain: 58,
  discRadius: 0.11,
  vignetting: 0.45,
  illumination: 0.25,
  vesselContrast: 26,
  discOffset: 0.17,
};

/** The pretraining corpus's device: brighter, flatter field, weaker cup contrast, thinner vessels, larger discs. */
export const PRETRAIN_STYLE: Readonly<FundusStyle> = {
  background: 104,
  discGain: 48,
  cupGain: 40,
  discRadius: 0.125,
  vignetting: 0.25,
  illumination: 0.1,
  vesselContrast: 16,
  discOffset: 0.17,
};

/**
 * Disc-centred photographs of the pretraining corpus (optic disc photos, a separate glaucoma modality): the disc
 * fills the field, so the cup is a large feature; they teach a tiny model what a cup is before it must find one in
 * a full-field image.
 */
export const DISC_PHOTO_STYLE: Readonly<FundusStyle> = {
  background: 96,
  discGain: 60,
  cupGain: 55,
  discRadius: 0.3,
  vignetting: 0.3,
  illumination: 0.1,
  vesselContrast: 20,
  discOffset: 0,
};

/**
 * Renders the image (float32, integer gray levels 0..255, row-major [rows, cols]). Deterministic in `rng`'s state.
 */
export function renderStructuredFundus(
  rng: SeededRng,
  shape: readonly [number, number],
  anatomy: FundusAnatomy,
  quality: FundusQuality,
  style: FundusStyle,
): Float32Array {
  const [h, w] = shape;
  const m = Math.min(h, w);
  const out = new Float32Array(h * w);
  const cy = h / 2 + (rng.nextFloat() - 0.5) * h * 0.04;
  const cx = w / 2 + (rng.nextFloat() - 0.5) * w * 0.04;
  const field = m * 0.49;
  const eye = rng.nextFloat() < 0.5 ? -1 : 1; // left / right eye: the disc is nasal
  const dy = cy + (rng.nextFloat() - 0.5) * h * (style.discOffset > 0 ? 0.06 : 0.02);
  const dx = cx + eye * w * (style.discOffset + rng.nextFloat() * 0.04);
  const rd = m * style.discRadius * (0.9 + rng.nextFloat() * 0.2);
  const rdy = rd * 1.08; // discs are slightly taller than wide
  const rc = rd * anatomy.cupToDisc;
  const my = cy + (rng.nextFloat() - 0.5) * h * 0.03;
  const mx = dx - eye * rd * 5; // the macula, about 2.5 disc diameters temporal
  const notchAngle = (rng.nextFloat() < 0.5 ? 1 : -1) * (Math.PI / 2) + (rng.nextFloat() - 0.5) * 0.5;
  const illumAngle = rng.nextFloat() * 2 * Math.PI;
  const ily = Math.sin(illumAngle) / m;
  const ilx = Math.cos(illumAngle) / m;
  const base = style.background * (0.92 + rng.nextFloat() * 0.16);
  const waves = Array.from({ length: 3 }, () => ({
    fy: ((0.5 + rng.nextFloat() * 2.5) * 2 * Math.PI) / m,
    fx: ((0.5 + rng.nextFloat() * 2.5) * 2 * Math.PI) / m,
    phase: rng.nextFloat() * 2 * Math.PI,
    amp: 3 + rng.nextFloat() * 4,
  }));
  const vessels = Array.from({ length: 6 }, (_, k) => ({
    angle: (k * Math.PI) / 3 + (rng.nextFloat() - 0.5) * 0.7,
    curve: (rng.nextFloat() - 0.5) * 2.2,
    width: m * (0.008 + rng.nextFloat() * 0.006),
  }));
  const disc = style.discGain * quality.contrast;
  const cup = style.cupGain * quality.contrast;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const fr = Math.hypot(y - cy, x - cx) / field;
      const i = y * w + x;
      if (fr >= 1) {
        out[i] = 0;
        continue;
      }
      let v = base * (1 - style.vignetting * fr * fr) * (1 + style.illumination * ((y - cy) * ily + (x - cx) * ilx));
      for (const wv of waves) v += wv.amp * Math.sin(wv.fy * y + wv.fx * x + wv.phase);
      const mq = Math.hypot(y - my, x - mx) / (rd * 1.4);
      v -= 18 * Math.exp(-mq * mq);
      const ry = (y - dy) / rdy;
      const rx = (x - dx) / rd;
      const r = Math.hypot(ry, rx); // in disc radii
      const dq = r * r;
      v += disc * Math.exp(-dq * dq * dq);
      if (rc > 0) {
        let cr = anatomy.cupToDisc;
        if (anatomy.notch) {
          let da = Math.atan2(ry, rx) - notchAngle;
          da -= 2 * Math.PI * Math.round(da / (2 * Math.PI));
          cr += (0.92 - cr) * Math.exp(-(da * da) / 0.12);
        }
        const cq = (r / cr) ** 2;
        v += cup * Math.exp(-cq * cq);
      }
      if (r > 0.55) {
        const pr = r * rd;
        const phi = Math.atan2(y - dy, x - dx);
        for (const vs of vessels) {
          let d = phi - (vs.angle + (vs.curve * pr) / m);
          d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
          const off = (Math.abs(d) * pr) / vs.width;
          if (off < 1.5) v -= style.vesselContrast * Math.exp(-off * off * 2) * Math.min(1, 4 / (1 + pr / m));
        }
      }
      v += quality.noiseSd * rng.nextNormal();
      out[i] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return out;
}
