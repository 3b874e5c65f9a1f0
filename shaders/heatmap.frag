// gradscope heatmap: colours one tensor (uploaded as a GL_R32F texture, one texel per cell).
//   u_mode 0  sequential: viridis-like ramp from u_lo (dark violet) to u_hi (yellow), for values
//   u_mode 1  diverging:  blue (−) … near-white (0) … red (+), ±u_hi, for gradients
//             (u_boost 1: on a signed-√ scale, so entries 100× smaller than the largest still show)
//   −∞ (masked attention scores): grey diagonal hatching; +∞: amber hatching; NaN: magenta.
// When cells are at least 8 pixels wide a 1-pixel darker edge separates them.
#version 330 core

in vec2 v_uv;
out vec4 o_color;

uniform sampler2D u_data;  // R32F, cols × rows
uniform ivec2 u_grid;      // (cols, rows)
uniform int u_mode;
uniform float u_lo;
uniform float u_hi;
uniform float u_cell;      // framebuffer pixels per cell
uniform int u_boost;       // 1: diverging scale is signed √ (small entries show)

const vec3 kSequential[9] = vec3[9](
  vec3(0.267, 0.004, 0.329), vec3(0.278, 0.176, 0.482), vec3(0.231, 0.322, 0.545),
  vec3(0.173, 0.447, 0.557), vec3(0.129, 0.569, 0.549), vec3(0.157, 0.682, 0.502),
  vec3(0.369, 0.788, 0.384), vec3(0.678, 0.863, 0.188), vec3(0.992, 0.906, 0.145));

const vec3 kDiverging[9] = vec3[9](
  vec3(0.129, 0.400, 0.675), vec3(0.263, 0.576, 0.765), vec3(0.573, 0.773, 0.871),
  vec3(0.820, 0.898, 0.941), vec3(0.969, 0.969, 0.969), vec3(0.992, 0.859, 0.780),
  vec3(0.957, 0.647, 0.510), vec3(0.839, 0.376, 0.302), vec3(0.698, 0.094, 0.169));

vec3 ramp_sequential(float t) {
  float x = clamp(t, 0.0, 1.0) * 8.0;
  int i = min(int(floor(x)), 7);
  return mix(kSequential[i], kSequential[i + 1], x - float(i));
}

vec3 ramp_diverging(float t) {
  float x = clamp(t, 0.0, 1.0) * 8.0;
  int i = min(int(floor(x)), 7);
  return mix(kDiverging[i], kDiverging[i + 1], x - float(i));
}

void main() {
  vec2 pos = v_uv * vec2(u_grid);
  ivec2 cell = clamp(ivec2(floor(pos)), ivec2(0), u_grid - 1);
  float v = texelFetch(u_data, cell, 0).r;
  vec2 px = gl_FragCoord.xy;

  vec3 c;
  if (isnan(v)) {
    c = vec3(1.0, 0.0, 1.0);
  } else if (isinf(v)) {
    float stripe = mod(floor((px.x + px.y) / 3.0), 2.0);
    c = v < 0.0 ? mix(vec3(0.30), vec3(0.62), stripe) : mix(vec3(0.55, 0.42, 0.0), vec3(1.0, 0.80, 0.1), stripe);
  } else if (u_mode == 1) {
    float x = u_hi > 0.0 ? clamp(v / u_hi, -1.0, 1.0) : 0.0;
    if (u_boost == 1) x = sign(x) * sqrt(abs(x));
    float t = 0.5 + 0.5 * x;
    c = ramp_diverging(t);
  } else {
    float span = u_hi - u_lo;
    float t = span > 0.0 ? (v - u_lo) / span : 0.5;
    c = ramp_sequential(t);
  }

  if (u_cell >= 8.0) {
    vec2 inner = fract(pos) * u_cell;
    if (inner.x < 1.0 || inner.y < 1.0) c *= 0.72;
  }
  o_color = vec4(c, 1.0);
}
