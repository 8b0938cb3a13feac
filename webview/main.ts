// The listeners sidebar page. It renders the state the extension sends and keeps no model of its own.
export {};
