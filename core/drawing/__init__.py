"""Pictures and colours, shared by the image task, the renderers and the drop-in classes: loading an input image,
PNG data URIs, the one diverging colour scale, and image attribution figures (matplotlib, Agg)."""
