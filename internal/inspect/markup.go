package inspect

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// foreignMarkup reports markup that text stored by this API has no use
// for, read with the HTML5 tokenizer of golang.org/x/net/html:
//
//   - an element, opening or closing, that belongs to a document, a form,
//     embedded content or a foreign (SVG, MathML, XML) vocabulary rather
//     than to formatted text: "</title>", "<head>", "<form action=...>",
//     "<textarea>", "<math>", "<set attributeName=...>" (see documentTags);
//   - an element or attribute with a namespace prefix, or a namespace
//     declaration, which only XML, SVG and XSLT give meaning to:
//     "<xsl:template>", "</svg:mask>", "<a xlink:href=...>", "<x xmlns=...>";
//   - an HTML comment, a markup declaration or a processing instruction:
//     "<!-- [if IE] -->", "<!ATTLIST ...>", "<?php".
//
// Each is how an injection leaves the text it was put into, hides from a
// filter, or reaches a parser other than the HTML one. The formatting a
// storefront description may carry ("<p>", "<b>", "<a href>", "<img
// src>", "<table>") is left alone, as are names that are no element at
// all ("<foo val=bar />") and '<' in prose ("5 < 10", "I <3 it"); their
// attributes still go through the event-handler and URL checks.
func foreignMarkup(s string) bool {
	if strings.IndexByte(s, '<') < 0 {
		return false
	}
	// Every token is read: a bound would let harmless markup in front
	// carry the rest past the check. The tokenizer is linear in the input,
	// whose size the request body limit bounds.
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.CommentToken, html.DoctypeToken:
			if declaration(z.Raw()) {
				return true
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			if documentTags[string(name)] || bytes.IndexByte(name, ':') > 0 {
				return true
			}
			for more {
				var key []byte
				key, _, more = z.TagAttr()
				if string(key) == "xmlns" || bytes.IndexByte(key, ':') > 0 {
					return true
				}
			}
		}
	}
}

// declaration reports raw comment text that a person would not type as
// prose: an HTML comment ("<!--"), a declaration ("<!DOCTYPE", "<![CDATA[")
// or a processing instruction ("<?xml", "<? echo"), as opposed to the
// "bogus comments" the tokenizer also makes of "<!>" or "<?>".
func declaration(raw []byte) bool {
	if len(raw) < 3 {
		return false
	}
	switch c := raw[2]; {
	case bytes.HasPrefix(raw, []byte("<!--")):
		return true
	case raw[1] == '!' && (c == '[' || isASCIILetter(c)):
		return true
	case raw[1] == '?' && (c == ' ' || isASCIILetter(c)):
		return true
	}
	return false
}

// documentTags are the elements of HTML, SVG and MathML that have no place
// in formatted text: the document and its head, scripting and styling,
// frames and embedded objects, forms, media, the foreign vocabularies and
// their animation elements, and the obsolete elements that old browsers
// ran or parsed as raw text. Names are lower case, as TagName gives them.
var documentTags = func() map[string]bool {
	names := strings.Fields(`
		html head body title meta base link style script noscript template
		slot iframe frame frameset noframes object embed applet param
		portal form input button textarea select option optgroup keygen
		isindex datalist output video audio source track canvas dialog
		svg math xml xmp plaintext listing noembed layer ilayer bgsound
		marquee image set animate animatemotion animatetransform
		foreignobject use handler listener import vmlframe stylesheet
		circle ellipse polygon polyline`)
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}()
