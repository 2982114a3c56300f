// Used by scripts/pack-smoke.mjs (through gradients.mjs and commonjs.cjs, in a project where the packed packages are
// installed): tf.grad of tfjs-core ops under plain Node, each against its closed form computed here in float64.
// Throws on the first disagreement; returns the number of checks passed.
'use strict';

function checkGradients(tf) {
  const x = [0.3, -1.2, 2.5, 0.8];
  const pos = [0.3, 1.2, 2.5, 0.8];
  const b = [1.5, -0.5, 2, 4];
  const w = [1, 2, 3, 4];
  const A = [
    [1, 2, -1],
    [0.5, 3, 2],
  ];
  const B = [
    [2, -1],
    [0, 1],
    [4, 0.5],
  ];
  const softmax = (v) => {
    const m = Math.max(...v);
    const e = v.map((t) => Math.exp(t - m));
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((t) => t / s);
  };
  const sx = softmax(x);
  const sw = sx.reduce((p, s, i) => p + s * w[i], 0);
  const sigmoid = (t) => 1 / (1 + Math.exp(-t));
  const one = (v) => tf.tensor1d(v);
  const sum = (t) => tf.sum(t);
  // [name, f(...tensors) → scalar, inputs, expected gradient of each input]
  const cases = [
    ['Sum', (a) => sum(a), [x], [x.map(() => 1)]],
    ['Mean', (a) => tf.mean(a), [x], [x.map(() => 1 / x.length)]],
    ['RealDiv', (p, q) => sum(tf.div(p, q)), [x, b], [b.map((q) => 1 / q), x.map((p, i) => -p / b[i] ** 2)]],
    [
      'MatMul',
      (p, q) => sum(tf.matMul(p, q)),
      [A, B],
      [
        A.map((row) => row.map((_, k) => B[k].reduce((s, v) => s + v, 0))),
        B.map((row, k) => row.map(() => A[0][k] + A[1][k])),
      ],
    ],
    ['Exp', (a) => sum(tf.exp(a)), [x], [x.map(Math.exp)]],
    ['Log', (a) => sum(tf.log(a)), [pos], [pos.map((t) => 1 / t)]],
    ['Sqrt', (a) => sum(tf.sqrt(a)), [pos], [pos.map((t) => 0.5 / Math.sqrt(t))]],
    ['Pow', (a) => sum(tf.pow(a, tf.scalar(3))), [x], [x.map((t) => 3 * t * t)]],
    ['Softmax', (a) => sum(tf.mul(tf.softmax(a), one(w))), [x], [sx.map((s, i) => s * (w[i] - sw))]],
    ['LogSoftmax', (a) => sum(tf.mul(tf.logSoftmax(a), one(w))), [x], [sx.map((s, i) => w[i] - s * 10)]],
    ['logSumExp', (a) => tf.logSumExp(a), [x], [sx]],
    ['Max', (a) => tf.max(a), [x], [x.map((t) => (t === Math.max(...x) ? 1 : 0))]],
    ['Sigmoid', (a) => sum(tf.sigmoid(a)), [x], [x.map((t) => sigmoid(t) * (1 - sigmoid(t)))]],
    ['Tanh', (a) => sum(tf.tanh(a)), [x], [x.map((t) => 1 - Math.tanh(t) ** 2)]],
    ['Elu', (a) => sum(tf.elu(a)), [x], [x.map((t) => (t > 0 ? 1 : Math.exp(t)))]],
    ['MaxPool', (a) => sum(tf.maxPool(tf.reshape(a, [1, 2, 2, 1]), 2, 1, 'valid')), [[1, 5, 3, 4]], [[0, 1, 0, 0]]],
  ];
  if (tf.getGradient('Sum') === undefined) throw new Error('no gradient is registered for Sum');
  for (const [name, f, inputs, expected] of cases) {
    const tensors = inputs.map((v) => tf.tensor(v));
    const grads = tf.grads(f)(tensors);
    grads.forEach((g, k) => {
      const got = g.arraySync();
      const want = expected[k];
      const flatGot = [got].flat(3);
      const flatWant = [want].flat(3);
      const bad = flatWant.findIndex((v, i) => !(Math.abs(flatGot[i] - v) <= 1e-5 * Math.max(1, Math.abs(v))));
      if (flatGot.length !== flatWant.length || bad >= 0) {
        throw new Error(`${name}: gradient of input ${k} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      }
    });
    tf.dispose([...tensors, ...grads]);
  }
  return cases.length;
}

module.exports = { checkGradients };
