// gradscope heatmap: one triangle that covers the whole target framebuffer.
// v_uv runs 0…1 over the framebuffer; v_uv.y = 0 is the texture's first row, which
// ImGui::Image shows at the top, so tensor row 0 ends up on top.
#version 330 core

out vec2 v_uv;

void main() {
  // Vertices (0,0), (2,0), (0,2): the triangle's inner square is the viewport.
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  v_uv = p;
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
